//! Command-line interface: `serve`, `reset-password`, `users` and `validate-config`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::app::{generate_password, AppState};
use crate::config::{Config, NodeArgs};
use crate::domain::user::reserved_user_roles;
use crate::service::users::{self, NewPassword, PutUserRequest};

/// profiled: Elasticsearch-compatible user profiles and security APIs.
#[derive(Debug, Parser)]
#[command(name = "profiled", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server.
    Serve(NodeArgs),
    /// Sets a new password for a user (server stopped), like `elasticsearch-reset-password`.
    ResetPassword {
        /// The user whose password is reset.
        #[arg(long, short = 'u')]
        user: String,
        /// Use this password instead of generating one (also read from env `PROFILED_NEW_PASSWORD`).
        #[arg(long, env = "PROFILED_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Manages native users (server stopped), like `elasticsearch-users`.
    Users {
        #[command(subcommand)]
        action: UsersAction,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Checks a YAML config file and prints the resolved settings.
    ValidateConfig {
        /// The file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Adds a native user.
    #[command(alias = "useradd")]
    Add {
        username: String,
        /// The password (also read from env `PROFILED_USER_PASSWORD`).
        #[arg(long, short = 'p', env = "PROFILED_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Comma-separated roles.
        #[arg(long, short = 'r', default_value = "")]
        roles: String,
    },
    /// Lists users and their roles.
    List,
    /// Removes a native user.
    #[command(alias = "userdel")]
    Remove { username: String },
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(node) => crate::app::serve(Config::load(&node)?).await,
        Command::ResetPassword { user, password, node } => {
            let state = AppState::open(Config::load(&node)?).await?;
            let (new_password, generated) = match password {
                Some(password) => (password, false),
                None => (generate_password(), true),
            };
            if reserved_user_roles(&user).is_none()
                && users::get_users(&state, std::slice::from_ref(&user)).await?.is_empty()
            {
                bail!("user [{user}] does not exist");
            }
            users::change_password(&state, &user, NewPassword::Clear(new_password.clone()))
                .await
                .map_err(anyhow_from_es)?;
            state.store.close().await;
            if generated {
                println!("Password for the [{user}] user successfully reset.\nNew value: {new_password}");
            } else {
                println!("Password for the [{user}] user successfully reset.");
            }
            Ok(())
        }
        Command::Users { action, node } => {
            let state = AppState::open(Config::load(&node)?).await?;
            let result = run_users_action(&state, action).await;
            state.store.close().await;
            result
        }
        Command::ValidateConfig { file } => {
            let settings = crate::config::read_settings_file(&file)?;
            let config = Config::load(&NodeArgs { config: Some(file.clone()), ..NodeArgs::default() })
                .with_context(|| format!("invalid config file [{}]", file.display()))?;
            println!("config file [{}] is valid ({} settings)", file.display(), settings.len());
            println!("data: {}\nlisten: {}\nnode.name: {}", config.data_dir.display(), config.listen, config.node_name);
            Ok(())
        }
    }
}

fn anyhow_from_es(error: crate::error::EsError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.reason)
}

async fn run_users_action(state: &AppState, action: UsersAction) -> anyhow::Result<()> {
    match action {
        UsersAction::Add { username, password, roles } => {
            let request = PutUserRequest {
                password: Some(NewPassword::Clear(password)),
                roles: Some(
                    roles.split(',').map(str::trim).filter(|role| !role.is_empty()).map(str::to_string).collect(),
                ),
                ..PutUserRequest::default()
            };
            crate::domain::names::validate_password(match &request.password {
                Some(NewPassword::Clear(password)) => password,
                _ => "",
            })
            .map_err(anyhow::Error::msg)?;
            request.validate(&username).map_err(anyhow_from_es)?;
            if !users::get_users(state, std::slice::from_ref(&username)).await?.is_empty() {
                bail!("user [{username}] already exists");
            }
            users::put_user(state, &username, request).await.map_err(anyhow_from_es)?;
            println!("user [{username}] added");
        }
        UsersAction::List => {
            for user in users::get_users(state, &[]).await? {
                let reserved = user.metadata.get("_reserved") == Some(&Value::Bool(true));
                println!(
                    "{:<24}: {}{}{}",
                    user.username,
                    user.roles.join(","),
                    if reserved { " (reserved)" } else { "" },
                    if user.enabled { "" } else { " (disabled)" }
                );
            }
        }
        UsersAction::Remove { username } => {
            if !users::delete_user(state, &username).await.map_err(anyhow_from_es)? {
                bail!("user [{username}] does not exist");
            }
            println!("user [{username}] removed");
        }
    }
    Ok(())
}
