//! The four pillars a liaison can serve, and every name a client may use for one. This is the
//! only place pillar names and aliases are read.

/// The four pillars a liaison can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pillar {
    /// Files, documents, data sources.
    Content,
    /// Analysis, trends, reports.
    Insights,
    /// Workflows, SOPs, processes.
    Operations,
    /// Roadmaps, proposals, business value.
    BusinessOutcomes,
}

impl Pillar {
    /// Every pillar.
    pub const ALL: [Pillar; 4] = [
        Pillar::Content,
        Pillar::Insights,
        Pillar::Operations,
        Pillar::BusinessOutcomes,
    ];

    /// Resolves a pillar name or alias (`journey` → operations, `outcomes` → business_outcomes,
    /// `*_pillar` surfaces, `-` for `_`, any case).
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().to_ascii_lowercase().replace('-', "_");
        let name = name.strip_suffix("_pillar").unwrap_or(&name);
        Some(match name {
            "content" => Self::Content,
            "insights" | "insight" => Self::Insights,
            "operations" | "operation" | "journey" => Self::Operations,
            "business_outcomes" | "outcomes" | "business_outcome" | "outcome" => {
                Self::BusinessOutcomes
            }
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::Insights => "insights",
            Self::Operations => "operations",
            Self::BusinessOutcomes => "business_outcomes",
        }
    }

    /// A readable name.
    pub fn title(self) -> &'static str {
        match self {
            Self::Content => "Content",
            Self::Insights => "Insights",
            Self::Operations => "Operations",
            Self::BusinessOutcomes => "Business Outcomes",
        }
    }

    /// Position in [`Pillar::ALL`].
    pub fn index(self) -> usize {
        match self {
            Self::Content => 0,
            Self::Insights => 1,
            Self::Operations => 2,
            Self::BusinessOutcomes => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_aliases() {
        assert_eq!(Pillar::parse("journey"), Some(Pillar::Operations));
        assert_eq!(Pillar::parse("outcomes"), Some(Pillar::BusinessOutcomes));
        assert_eq!(Pillar::parse("Content_Pillar"), Some(Pillar::Content));
        assert_eq!(Pillar::parse("insights_pillar"), Some(Pillar::Insights));
        assert_eq!(
            Pillar::parse("business-outcomes"),
            Some(Pillar::BusinessOutcomes)
        );
        assert_eq!(Pillar::parse("finance"), None);
        for p in Pillar::ALL {
            assert_eq!(Pillar::parse(p.as_str()), Some(p));
            assert_eq!(Pillar::ALL[p.index()], p);
        }
    }
}
