//! Where the API token comes from: `--token-file` if given, else `WHEREVER_SIM_TOKEN`.
//!
//! The token goes straight into a `SecretString`; messages name the source, never the value.

use std::path::Path;

use secrecy::SecretString;

use super::error::ApiError;

/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "WHEREVER_SIM_TOKEN";

/// Reads the token from `token_file` (surrounding whitespace trimmed) or, without one, from
/// [`TOKEN_ENV`]. An explicit file wins over the environment.
pub fn load_token(token_file: Option<&Path>) -> Result<SecretString, ApiError> {
    token_from(std::env::var(TOKEN_ENV).ok(), token_file)
}

fn token_from(env: Option<String>, token_file: Option<&Path>) -> Result<SecretString, ApiError> {
    let (text, source) = match token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ApiError::Config(format!("cannot read --token-file {}: {e}", path.display()))
            })?;
            (text, format!("--token-file {}", path.display()))
        }
        None => match env {
            Some(text) => (text, TOKEN_ENV.to_string()),
            None => {
                return Err(ApiError::Config(format!(
                    "no API token: set {TOKEN_ENV} or pass --token-file"
                )))
            }
        },
    };
    let token = text.trim();
    if token.is_empty() {
        return Err(ApiError::Config(format!(
            "the API token in {source} is empty"
        )));
    }
    Ok(SecretString::from(token.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_wins_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  file-token\n").unwrap();
        let token = token_from(Some("env-token".into()), Some(&path)).unwrap();
        assert_eq!(token.expose_secret(), "file-token");
        let token = token_from(Some("env-token".into()), None).unwrap();
        assert_eq!(token.expose_secret(), "env-token");
    }

    #[test]
    fn missing_or_empty_tokens_say_where_to_put_one() {
        let err = token_from(None, None).unwrap_err().to_string();
        assert!(
            err.contains(TOKEN_ENV) && err.contains("--token-file"),
            "{err}"
        );
        let err = token_from(Some(" \n".into()), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
        let err = token_from(None, Some(Path::new("/nonexistent/token")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/token"), "{err}");
    }
}
