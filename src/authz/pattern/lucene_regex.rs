//! A recursive-descent parser for Lucene's `RegExp` syntax (flags `ALL`): union `|`,
//! intersection `&`, complement `~`, repetition `? * + {n,m}`, classes `[..]`/`[^..]` with
//! `\d \s \w` shorthands, `.` any char, `#` empty language, `@` any string, `"literal"`,
//! `()` empty string and `<n-m>` numeric intervals.

use crate::authz::automaton::{Node, MAX_CHAR};

/// The parser state: the characters and the current position.
pub(super) struct RegexParser {
    characters: Vec<char>,
    position: usize,
}

type ParseResult = Result<Node, String>;

impl RegexParser {
    pub(super) fn new(text: &str) -> RegexParser {
        RegexParser { characters: text.chars().collect(), position: 0 }
    }

    pub(super) fn parse(mut self) -> ParseResult {
        let node = self.parse_union()?;
        if self.position < self.characters.len() {
            return Err(format!("end-of-string expected at position {}", self.position));
        }
        Ok(node)
    }

    fn more(&self) -> bool {
        self.position < self.characters.len()
    }

    fn peek(&self, candidates: &str) -> bool {
        self.characters.get(self.position).is_some_and(|c| candidates.contains(*c))
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.characters.get(self.position) == Some(&expected) {
            self.position += 1;
            return true;
        }
        false
    }

    fn next_char(&mut self) -> Result<char, String> {
        let character = *self.characters.get(self.position).ok_or_else(|| "unexpected end-of-string".to_string())?;
        self.position += 1;
        Ok(character)
    }

    fn parse_union(&mut self) -> ParseResult {
        let left = self.parse_intersection()?;
        if self.eat('|') {
            let right = self.parse_union()?;
            return Ok(Node::Union(vec![left, right]));
        }
        Ok(left)
    }

    fn parse_intersection(&mut self) -> ParseResult {
        let left = self.parse_concat()?;
        if self.eat('&') {
            let right = self.parse_intersection()?;
            return Ok(Node::Intersection(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn parse_concat(&mut self) -> ParseResult {
        let mut parts = vec![self.parse_repeat()?];
        while self.more() && !self.peek(")|&") {
            parts.push(self.parse_repeat()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Node::Concat(parts) })
    }

    fn parse_repeat(&mut self) -> ParseResult {
        let mut node = self.parse_complement()?;
        while self.peek("?*+{") {
            let operator = self.next_char()?;
            let (min, max) = match operator {
                '?' => (0, Some(1)),
                '*' => (0, None),
                '+' => (1, None),
                _ => self.parse_bounds()?,
            };
            node = Node::Repeat { inner: Box::new(node), min, max };
        }
        Ok(node)
    }

    fn parse_bounds(&mut self) -> Result<(u32, Option<u32>), String> {
        let min = self.parse_integer()?;
        if self.eat('}') {
            return Ok((min, Some(min)));
        }
        if !self.eat(',') {
            return Err(format!("expected ',' or '}}' at position {}", self.position));
        }
        if self.eat('}') {
            return Ok((min, None));
        }
        let max = self.parse_integer()?;
        if !self.eat('}') {
            return Err(format!("expected '}}' at position {}", self.position));
        }
        if max < min {
            return Err(format!("invalid repetition {{{min},{max}}}"));
        }
        Ok((min, Some(max)))
    }

    fn parse_integer(&mut self) -> Result<u32, String> {
        let start = self.position;
        while self.peek("0123456789") {
            self.position += 1;
        }
        let digits: String = self.characters[start..self.position].iter().collect();
        digits.parse::<u32>().map_err(|_| format!("integer expected at position {start}"))
    }

    fn parse_complement(&mut self) -> ParseResult {
        if self.eat('~') {
            let inner = self.parse_complement()?;
            return Ok(Node::Complement(Box::new(inner)));
        }
        self.parse_char_class_expression()
    }

    fn parse_char_class_expression(&mut self) -> ParseResult {
        if !self.eat('[') {
            return self.parse_simple();
        }
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        loop {
            ranges.extend(self.parse_class_item()?);
            if !self.more() || self.peek("]") {
                break;
            }
        }
        if !self.eat(']') {
            return Err(format!("expected ']' at position {}", self.position));
        }
        Ok(Node::Chars(if negated { negate(&ranges) } else { ranges }))
    }

    fn parse_class_item(&mut self) -> Result<Vec<(u32, u32)>, String> {
        let first = self.parse_char_or_class()?;
        let Some(low) = first.single else {
            return Ok(first.ranges);
        };
        if self.peek("-") && self.characters.get(self.position + 1).is_some_and(|c| *c != ']') {
            self.position += 1;
            let second = self.parse_char_or_class()?;
            let high = second.single.ok_or_else(|| "invalid character class range".to_string())?;
            if high < low {
                return Err(format!("invalid range: from ({low}) cannot be > to ({high})"));
            }
            return Ok(vec![(low as u32, high as u32)]);
        }
        Ok(first.ranges)
    }

    fn parse_simple(&mut self) -> ParseResult {
        if self.eat('.') {
            return Ok(Node::any_char());
        }
        if self.eat('#') {
            return Ok(Node::Nothing);
        }
        if self.eat('@') {
            return Ok(Node::AnyString);
        }
        if self.eat('"') {
            let start = self.position;
            while self.more() && !self.peek("\"") {
                self.position += 1;
            }
            if !self.eat('"') {
                return Err(format!("expected '\"' at position {}", self.position));
            }
            let text: String = self.characters[start..self.position - 1].iter().collect();
            return Ok(Node::literal(&text));
        }
        if self.eat('(') {
            if self.eat(')') {
                return Ok(Node::Empty);
            }
            let inner = self.parse_union()?;
            if !self.eat(')') {
                return Err(format!("expected ')' at position {}", self.position));
            }
            return Ok(inner);
        }
        if self.eat('<') {
            return self.parse_angle();
        }
        let item = self.parse_char_or_class()?;
        Ok(Node::Chars(item.ranges))
    }

    /// Parses `<n-m>` (numeric interval); named automata (`<name>`) are not available.
    fn parse_angle(&mut self) -> ParseResult {
        let start = self.position;
        while self.more() && !self.peek(">") {
            self.position += 1;
        }
        if !self.eat('>') {
            return Err(format!("expected '>' at position {}", self.position));
        }
        let body: String = self.characters[start..self.position - 1].iter().collect();
        let Some((low_text, high_text)) = body.split_once('-') else {
            return Err(format!("'{body}' not found"));
        };
        let (Ok(low), Ok(high)) = (low_text.parse::<u64>(), high_text.parse::<u64>()) else {
            return Err(format!("interval syntax error at position {}", self.position - 1));
        };
        let (low, high) = if low <= high { (low, high) } else { (high, low) };
        if high - low > 10_000 {
            return Err("interval too large".to_string());
        }
        let width = if low_text.len() == high_text.len() { low_text.len() } else { 0 };
        let numbers = (low..=high)
            .map(|number| {
                if width > 0 {
                    Node::literal(&format!("{number:0width$}"))
                } else {
                    let zeros = Node::Repeat { inner: Box::new(Node::literal("0")), min: 0, max: None };
                    Node::Concat(vec![zeros, Node::literal(&number.to_string())])
                }
            })
            .collect();
        Ok(Node::Union(numbers))
    }

    /// Parses a character or escape; `\d \D \s \S \w \W` yield predefined classes.
    fn parse_char_or_class(&mut self) -> Result<ClassItem, String> {
        let character = self.next_char()?;
        if character != '\\' {
            return Ok(ClassItem::single(character));
        }
        let escaped = self.next_char()?;
        let digits = vec![('0' as u32, '9' as u32)];
        let spaces = vec![(9, 13), (32, 32)];
        let words = vec![
            ('0' as u32, '9' as u32),
            ('A' as u32, 'Z' as u32),
            ('_' as u32, '_' as u32),
            ('a' as u32, 'z' as u32),
        ];
        let ranges = match escaped {
            'd' => digits,
            'D' => negate(&digits),
            's' => spaces,
            'S' => negate(&spaces),
            'w' => words,
            'W' => negate(&words),
            other => return Ok(ClassItem::single(other)),
        };
        Ok(ClassItem { single: None, ranges })
    }
}

struct ClassItem {
    single: Option<char>,
    ranges: Vec<(u32, u32)>,
}

impl ClassItem {
    fn single(character: char) -> ClassItem {
        ClassItem { single: Some(character), ranges: vec![(character as u32, character as u32)] }
    }
}

/// Returns the complement of a set of code-point ranges.
fn negate(ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut result = Vec::new();
    let mut cursor = 0u32;
    for (low, high) in sorted {
        if low > cursor {
            result.push((cursor, low - 1));
        }
        cursor = cursor.max(high + 1);
    }
    if cursor <= MAX_CHAR {
        result.push((cursor, MAX_CHAR));
    }
    result
}
