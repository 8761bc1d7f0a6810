use super::*;

fn chars(text: &str) -> Node {
    Node::literal(text)
}

#[test]
fn literal_and_any_string() {
    let nfa = compile_dfa(&Node::Concat(vec![chars("ab"), Node::AnyString])).unwrap();
    assert!(nfa.matches("ab"));
    assert!(nfa.matches("abc"));
    assert!(!nfa.matches("a"));
    assert!(!nfa.matches("xab"));
}

#[test]
fn repeat_bounds() {
    let node = Node::Repeat { inner: Box::new(chars("a")), min: 2, max: Some(3) };
    let nfa = compile_dfa(&node).unwrap();
    assert!(!nfa.matches("a"));
    assert!(nfa.matches("aa"));
    assert!(nfa.matches("aaa"));
    assert!(!nfa.matches("aaaa"));
}

#[test]
fn complement_and_intersection() {
    let not_dot = Node::Complement(Box::new(Node::Concat(vec![chars("."), Node::AnyString])));
    let nfa = compile_dfa(&not_dot).unwrap();
    assert!(nfa.matches("logs"));
    assert!(nfa.matches(""));
    assert!(!nfa.matches(".kibana"));
    let both = Node::Intersection(
        Box::new(Node::Concat(vec![chars("a"), Node::AnyString])),
        Box::new(Node::Concat(vec![Node::AnyString, chars("z")])),
    );
    let nfa = compile_dfa(&both).unwrap();
    assert!(nfa.matches("abcz"));
    assert!(!nfa.matches("abc"));
}

#[test]
fn subset_and_emptiness() {
    let prefix = compile_dfa(&Node::Concat(vec![chars("index1"), Node::AnyString])).unwrap();
    let concrete = compile_dfa(&chars("index1-x")).unwrap();
    let everything = compile_dfa(&Node::AnyString).unwrap();
    assert_eq!(is_subset(&concrete, &prefix), Ok(true));
    assert_eq!(is_subset(&prefix, &prefix), Ok(true));
    assert_eq!(is_subset(&everything, &prefix), Ok(false));
    assert_eq!(is_subset(&prefix, &everything), Ok(true));
    assert_eq!(is_total(&everything), Ok(true));
    assert_eq!(is_empty(&compile_dfa(&Node::Nothing).unwrap()), Ok(true));
    assert_eq!(is_empty(&concrete), Ok(false));
}
