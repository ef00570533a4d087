//! Reading one setting: from its environment variable when set, else from the file;
//! every error names the setting and its variable.
use super::{env_name, ConfigError};
use std::collections::HashMap;

pub(super) struct Source<'a> {
    pub(super) file: String,
    pub(super) table: toml::Table,
    pub(super) env: &'a HashMap<String, String>,
}

pub(super) enum Raw {
    Env(String),
    File(toml::Value),
}

impl Source<'_> {
    pub(super) fn raw(&self, key: &str) -> Option<Raw> {
        if let Some(v) = self.env.get(&env_name(key)) {
            return Some(Raw::Env(v.clone()));
        }
        let (section, name) = key.split_once('.')?;
        self.table
            .get(section)?
            .as_table()?
            .get(name)
            .cloned()
            .map(Raw::File)
    }

    pub(super) fn error(&self, key: &str, problem: &str) -> ConfigError {
        ConfigError(format!(
            "setting `{key}` (in {} or the environment variable {}) {problem}",
            self.file,
            env_name(key)
        ))
    }

    pub(super) fn string(&self, key: &str) -> Result<String, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => Ok(s),
            Some(Raw::File(toml::Value::String(s))) => Ok(s),
            Some(Raw::File(_)) => Err(self.error(key, "must be a quoted string")),
        }
    }

    pub(super) fn int(&self, key: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
        let value = match self.raw(key) {
            None => return Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => s.trim().parse::<i64>().ok(),
            Some(Raw::File(toml::Value::Integer(i))) => Some(i),
            Some(Raw::File(_)) => None,
        };
        match value {
            Some(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(self.error(key, &format!("must be a whole number from {min} to {max}"))),
        }
    }

    pub(super) fn bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => match s.trim() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(self.error(key, "must be true or false")),
            },
            Some(Raw::File(toml::Value::Boolean(b))) => Ok(b),
            Some(Raw::File(_)) => Err(self.error(key, "must be true or false")),
        }
    }

    /// A list: an array of strings in the file, or a comma-separated environment variable.
    pub(super) fn list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        match self.raw(key) {
            None => Err(self.error(key, "is missing")),
            Some(Raw::Env(s)) => Ok(s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()),
            Some(Raw::File(toml::Value::Array(items))) => items
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.trim().to_string()),
                    _ => Err(self.error(key, "must be a list of quoted strings")),
                })
                .collect(),
            Some(Raw::File(_)) => Err(self.error(key, "must be a list of quoted strings")),
        }
    }

    pub(super) fn choice<T: Copy>(
        &self,
        key: &str,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let s = self.string(key)?;
        options
            .iter()
            .find(|(name, _)| *name == s.trim())
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                self.error(key, &format!("must be one of {}", names.join(", ")))
            })
    }
}
