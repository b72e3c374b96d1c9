//! The rules of a wrapper, free of storage: what a valid definition is (SPEC §8 and issue #9's
//! limits) and the deployment state machine. Every refusal names the field or the state.

pub use platform_sdk::wrapper_wire::DeploymentStatus as Status;
use platform_sdk::wrapper_wire::{Provider, WrapperInput};

use crate::error::RuntimeError;

/// Longest system prompt, bytes.
pub const MAX_SYSTEM_PROMPT_BYTES: usize = 32 * 1024;
const MAX_NAME_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 2000;
const MAX_MODEL_CHARS: usize = 100;
const MAX_OUTPUT_TOKENS: u32 = 32_768;
const MAX_APPROVAL_ACTIONS: usize = 20;
const MAX_ACTION_CHARS: usize = 64;
const MAX_BASE_URL_CHARS: usize = 2048;

fn chars_within(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), RuntimeError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(RuntimeError::invalid(
            field,
            format!("must be {min}..={max} characters"),
        ));
    }
    Ok(())
}

/// A semantic version `MAJOR.MINOR.PATCH` (no pre-release tags).
pub fn parse_version(text: &str) -> Option<[u64; 3]> {
    let mut parts = text.split('.').map(|p| {
        (!p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u64>().ok())
            .flatten()
    });
    let version = [parts.next()??, parts.next()??, parts.next()??];
    parts.next().is_none().then_some(version)
}

/// The version after an update: a new configuration or provider list is a minor change, a new
/// name or description a patch.
pub fn bump(version: &str, configuration_changed: bool) -> String {
    let [major, minor, patch] = parse_version(version).unwrap_or([1, 0, 0]);
    if configuration_changed {
        format!("{major}.{}.0", minor + 1)
    } else {
        format!("{major}.{minor}.{}", patch + 1)
    }
}

/// Checks a definition; trims the name. The first broken rule is the answer.
pub fn validate(input: &mut WrapperInput) -> Result<(), RuntimeError> {
    chars_within("name", &input.name, 1, MAX_NAME_CHARS)?;
    input.name = input.name.trim().to_owned();
    chars_within("name", &input.name, 1, MAX_NAME_CHARS)?;
    chars_within("description", &input.description, 0, MAX_DESCRIPTION_CHARS)?;
    if let Some(v) = &input.version {
        if parse_version(v).is_none() {
            return Err(RuntimeError::invalid(
                "version",
                "must be a semantic version like 1.0.0",
            ));
        }
    }
    if input.supported_providers.is_empty() {
        return Err(RuntimeError::invalid(
            "supported_providers",
            "must name at least one provider",
        ));
    }
    for (i, p) in input.supported_providers.iter().enumerate() {
        if input.supported_providers[..i].contains(p) {
            return Err(RuntimeError::invalid(
                "supported_providers",
                format!("`{}` is listed twice", p.as_str()),
            ));
        }
    }
    let c = &input.configuration;
    if c.system_prompt.trim().is_empty() || c.system_prompt.len() > MAX_SYSTEM_PROMPT_BYTES {
        return Err(RuntimeError::invalid(
            "configuration.system_prompt",
            format!("must be 1..={MAX_SYSTEM_PROMPT_BYTES} bytes"),
        ));
    }
    if !input.supported_providers.contains(&c.provider) {
        return Err(RuntimeError::invalid(
            "configuration.provider",
            format!(
                "`{}` is not one of supported_providers",
                c.provider.as_str()
            ),
        ));
    }
    chars_within("configuration.model", &c.model, 1, MAX_MODEL_CHARS)?;
    if c.model.trim().is_empty() {
        return Err(RuntimeError::invalid(
            "configuration.model",
            "must not be blank",
        ));
    }
    if let Some(t) = c.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(RuntimeError::invalid(
                "configuration.temperature",
                "must be 0..=2",
            ));
        }
    }
    if let Some(m) = c.max_output_tokens {
        if m == 0 || m > MAX_OUTPUT_TOKENS {
            return Err(RuntimeError::invalid(
                "configuration.max_output_tokens",
                format!("must be 1..={MAX_OUTPUT_TOKENS}"),
            ));
        }
    }
    if c.approval_actions.len() > MAX_APPROVAL_ACTIONS {
        return Err(RuntimeError::invalid(
            "configuration.approval_actions",
            format!("at most {MAX_APPROVAL_ACTIONS} actions"),
        ));
    }
    for a in &c.approval_actions {
        chars_within("configuration.approval_actions", a, 1, MAX_ACTION_CHARS)?;
        if a.trim().is_empty() {
            return Err(RuntimeError::invalid(
                "configuration.approval_actions",
                "an action must not be blank",
            ));
        }
    }
    if let Some(url) = &c.base_url {
        if c.provider != Provider::Openai {
            return Err(RuntimeError::invalid(
                "configuration.base_url",
                "only an `openai` agent takes a base_url",
            ));
        }
        check_base_url(url)?;
    }
    Ok(())
}

fn check_base_url(url: &str) -> Result<(), RuntimeError> {
    let field = "configuration.base_url";
    if url.len() > MAX_BASE_URL_CHARS {
        return Err(RuntimeError::invalid(
            field,
            format!("must be at most {MAX_BASE_URL_CHARS} bytes"),
        ));
    }
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if !scheme_ok || url.chars().any(char::is_whitespace) {
        return Err(RuntimeError::invalid(
            field,
            "must be an http:// or https:// URL",
        ));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| RuntimeError::invalid(field, format!("is not a URL: {e}")))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(RuntimeError::invalid(field, "must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RuntimeError::invalid(field, "must not carry credentials"));
    }
    Ok(())
}

/// What a client can ask of a wrapper's deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start a deployment.
    Deploy,
    /// Stop serving for now.
    Pause,
    /// Serve again after a pause.
    Resume,
    /// Withdraw.
    Retire,
    /// Remove (retiring first).
    Delete,
}

impl Action {
    /// The verb, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Retire => "retire",
            Self::Delete => "delete",
        }
    }
}

/// The state `action` leads to from `from`, or the 409 naming both. Deploying an `active`
/// wrapper is a redeploy (the served version keeps serving until it succeeds, ADR 0016).
pub fn after(from: Status, action: Action) -> Result<Status, RuntimeError> {
    use Action as A;
    use Status as S;
    let next = match (from, action) {
        (S::Draft | S::Failed | S::Retired | S::Active, A::Deploy) => S::Deploying,
        (S::Active, A::Pause) => S::Paused,
        (S::Paused, A::Resume) => S::Active,
        (S::Active | S::Paused, A::Retire) => S::Retired,
        (S::Draft | S::Failed | S::Retired | S::Active | S::Paused, A::Delete) => S::Retired,
        _ => {
            return Err(RuntimeError::InvalidTransition {
                what: "wrapper",
                current: from.as_str().to_owned(),
                action: action.as_str(),
            })
        }
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use platform_sdk::wrapper_wire::WrapperConfiguration;

    use super::*;

    fn input() -> WrapperInput {
        WrapperInput {
            name: " Support bot ".into(),
            description: String::new(),
            version: None,
            supported_providers: vec![Provider::Builtin, Provider::Openai],
            configuration: WrapperConfiguration {
                system_prompt: "You help.".into(),
                provider: Provider::Openai,
                model: "gpt-test".into(),
                temperature: Some(0.2),
                max_output_tokens: None,
                approval_actions: vec![],
                base_url: Some("http://127.0.0.1:9/v1".into()),
            },
        }
    }

    fn refused(change: impl FnOnce(&mut WrapperInput)) -> &'static str {
        let mut i = input();
        change(&mut i);
        match validate(&mut i) {
            Err(RuntimeError::Validation { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_definition_passes_trimmed() {
        let mut i = input();
        validate(&mut i).unwrap();
        assert_eq!(i.name, "Support bot");
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(refused(|i| i.name = " ".into()), "name");
        assert_eq!(refused(|i| i.name = "x".repeat(101)), "name");
        assert_eq!(refused(|i| i.version = Some("1.0".into())), "version");
        assert_eq!(
            refused(|i| i.supported_providers.clear()),
            "supported_providers"
        );
        assert_eq!(
            refused(|i| i.supported_providers.push(Provider::Openai)),
            "supported_providers"
        );
        assert_eq!(
            refused(|i| i.supported_providers = vec![Provider::Builtin]),
            "configuration.provider"
        );
        assert_eq!(
            refused(|i| i.configuration.system_prompt = "x".repeat(32 * 1024 + 1)),
            "configuration.system_prompt"
        );
        assert_eq!(
            refused(|i| i.configuration.temperature = Some(2.5)),
            "configuration.temperature"
        );
        assert_eq!(
            refused(|i| i.configuration.base_url = Some("ftp://host/".into())),
            "configuration.base_url"
        );
        assert_eq!(
            refused(|i| i.configuration.base_url = Some("HTTP://host/".into())),
            "configuration.base_url"
        );
        assert_eq!(
            refused(|i| i.configuration.base_url = Some("http://u:p@host/".into())),
            "configuration.base_url"
        );
        assert_eq!(
            refused(|i| {
                i.configuration.provider = Provider::Builtin;
            }),
            "configuration.base_url"
        );
    }

    #[test]
    fn versions_bump() {
        assert_eq!(parse_version("1.2.3"), Some([1, 2, 3]));
        assert_eq!(parse_version("1.2.3.4"), None);
        assert_eq!(parse_version("1.x.3"), None);
        assert_eq!(bump("1.2.3", true), "1.3.0");
        assert_eq!(bump("1.2.3", false), "1.2.4");
    }

    #[test]
    fn the_state_machine_is_explicit() {
        use Action::*;
        use Status::*;
        let ok = [
            (Draft, Deploy, Deploying),
            (Failed, Deploy, Deploying),
            (Retired, Deploy, Deploying),
            (Active, Deploy, Deploying),
            (Active, Pause, Paused),
            (Paused, Resume, Active),
            (Active, Retire, Retired),
            (Paused, Retire, Retired),
        ];
        for (from, action, to) in ok {
            assert_eq!(after(from, action).unwrap(), to, "{from:?} {action:?}");
        }
        let refused = [
            (Deploying, Deploy),
            (Paused, Deploy),
            (Draft, Pause),
            (Paused, Pause),
            (Active, Resume),
            (Draft, Retire),
            (Retired, Retire),
            (Deploying, Delete),
        ];
        for (from, action) in refused {
            let e = after(from, action).unwrap_err();
            assert_eq!(e.code(), "invalid_transition");
            assert!(e.to_string().contains(from.as_str()), "{e}");
        }
    }
}
