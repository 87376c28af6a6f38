//! Licences a dataset may carry, and update frequencies.
//!
//! Ids are opendefinition.org's (what CKAN's `license_list` gives, so that harvesters map them
//! without a table of their own), plus `lov2` and `etalab-2.0` for the French Licence Ouverte
//! 2.0 (data.gouv.fr's default; the two ids are the same licence under the names CKAN portals
//! and uData use). Each carries a plain explanation in French and English for the chooser.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Licence {
    pub id: &'static str,
    pub title: &'static str,
    pub url: &'static str,
    /// Conformant with the Open Definition (counts as "openly licensed" in the quality score
    /// and the census).
    pub open: bool,
    /// Reusers must credit the source.
    pub attribution: bool,
    /// Derived data must be shared under the same licence.
    pub share_alike: bool,
    pub explain_en: &'static str,
    pub explain_fr: &'static str,
}

impl Licence {
    pub fn explain(&self, lang: &str) -> &'static str {
        if lang == "fr" {
            self.explain_fr
        } else {
            self.explain_en
        }
    }
}

pub const LICENCES: [Licence; 11] = [
    Licence {
        id: "cc-by",
        title: "Creative Commons Attribution 4.0",
        url: "https://creativecommons.org/licenses/by/4.0/",
        open: true,
        attribution: true,
        share_alike: false,
        explain_en: "Anyone may copy, change and reuse the data, also commercially, as long as they say where it comes from. The usual choice for NGO data.",
        explain_fr: "Chacun peut copier, modifier et réutiliser les données, y compris à des fins commerciales, à condition d'en citer la source. Le choix habituel pour les données d'une ONG.",
    },
    Licence {
        id: "cc-by-sa",
        title: "Creative Commons Attribution Share-Alike 4.0",
        url: "https://creativecommons.org/licenses/by-sa/4.0/",
        open: true,
        attribution: true,
        share_alike: true,
        explain_en: "As CC-BY, and whatever is made from the data must be shared under the same licence.",
        explain_fr: "Comme CC-BY, et ce qui est fait à partir des données doit être partagé sous la même licence.",
    },
    Licence {
        id: "cc-zero",
        title: "Creative Commons CCZero",
        url: "https://creativecommons.org/publicdomain/zero/1.0/",
        open: true,
        attribution: false,
        share_alike: false,
        explain_en: "You give up every right: anyone may do anything with the data, without even naming you.",
        explain_fr: "Vous renoncez à tous vos droits : chacun peut tout faire des données, sans même vous citer.",
    },
    Licence {
        id: "lov2",
        title: "Licence Ouverte 2.0 (Etalab)",
        url: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        open: true,
        attribution: true,
        share_alike: false,
        explain_en: "The French government's open licence, compatible with CC-BY: free reuse with credit to the source and the date of the last update.",
        explain_fr: "La licence ouverte de l'État français, compatible avec CC-BY : réutilisation libre en citant la source et la date de dernière mise à jour.",
    },
    Licence {
        id: "etalab-2.0",
        title: "Licence Ouverte / Open Licence version 2.0",
        url: "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf",
        open: true,
        attribution: true,
        share_alike: false,
        explain_en: "The same Licence Ouverte 2.0, under the id data.gouv.fr uses.",
        explain_fr: "La même Licence Ouverte 2.0, sous l'identifiant qu'utilise data.gouv.fr.",
    },
    Licence {
        id: "odc-odbl",
        title: "Open Data Commons Open Database License (ODbL)",
        url: "https://opendatacommons.org/licenses/odbl/1-0/",
        open: true,
        attribution: true,
        share_alike: true,
        explain_en: "For databases (OpenStreetMap uses it): free reuse with credit, and an improved database must be shared under the ODbL.",
        explain_fr: "Pour les bases de données (OpenStreetMap l'utilise) : réutilisation libre en citant la source, et une base améliorée doit être partagée sous ODbL.",
    },
    Licence {
        id: "odc-by",
        title: "Open Data Commons Attribution License",
        url: "https://opendatacommons.org/licenses/by/1-0/",
        open: true,
        attribution: true,
        share_alike: false,
        explain_en: "The database version of CC-BY: free reuse with credit.",
        explain_fr: "La version « bases de données » de CC-BY : réutilisation libre en citant la source.",
    },
    Licence {
        id: "odc-pddl",
        title: "Open Data Commons Public Domain Dedication and License (PDDL)",
        url: "https://opendatacommons.org/licenses/pddl/1-0/",
        open: true,
        attribution: false,
        share_alike: false,
        explain_en: "The database version of CC0: the data is in the public domain.",
        explain_fr: "La version « bases de données » de CC0 : les données sont dans le domaine public.",
    },
    Licence {
        id: "cc-nc",
        title: "Creative Commons Non-Commercial (Any)",
        url: "https://creativecommons.org/licenses/by-nc/4.0/",
        open: false,
        attribution: true,
        share_alike: false,
        explain_en: "Forbids commercial reuse: not an open licence, and journalists' outlets may not be able to use the data.",
        explain_fr: "Interdit la réutilisation commerciale : ce n'est pas une licence ouverte, et des médias pourraient ne pas pouvoir utiliser les données.",
    },
    Licence {
        id: "other-closed",
        title: "Other (Not Open)",
        url: "",
        open: false,
        attribution: false,
        share_alike: false,
        explain_en: "Terms of your own that restrict reuse: say them in the description.",
        explain_fr: "Des conditions propres qui restreignent la réutilisation : décrivez-les dans la description.",
    },
    Licence {
        id: "notspecified",
        title: "License not specified",
        url: "",
        open: false,
        attribution: false,
        share_alike: false,
        explain_en: "No licence chosen yet: nobody knows what they may do with the data. Choose one before publishing.",
        explain_fr: "Aucune licence choisie : personne ne sait ce qu'il peut faire des données. Choisissez-en une avant de publier.",
    },
];

/// The licence with this id.
pub fn licence(id: &str) -> Option<&'static Licence> {
    LICENCES.iter().find(|l| l.id == id)
}

/// An update frequency (the EU Publications Office's vocabulary, as uData uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Frequency {
    pub code: &'static str,
    pub en: &'static str,
    pub fr: &'static str,
    /// The longest wait, in days, before an update is late; `None` when no update is promised.
    pub days: Option<i64>,
    /// The EU frequency authority's URI (for DCAT's `dct:accrualPeriodicity`).
    pub uri: &'static str,
}

impl Frequency {
    pub fn label(&self, lang: &str) -> &'static str {
        if lang == "fr" {
            self.fr
        } else {
            self.en
        }
    }
}

const FREQ: &str = "http://publications.europa.eu/resource/authority/frequency/";

pub const FREQUENCIES: [Frequency; 11] = [
    Frequency {
        code: "punctual",
        en: "Once (no update)",
        fr: "Ponctuelle",
        days: None,
        uri: "NEVER",
    },
    Frequency {
        code: "continuous",
        en: "Continuously",
        fr: "En continu",
        days: Some(2),
        uri: "CONT",
    },
    Frequency {
        code: "daily",
        en: "Daily",
        fr: "Quotidienne",
        days: Some(2),
        uri: "DAILY",
    },
    Frequency {
        code: "weekly",
        en: "Weekly",
        fr: "Hebdomadaire",
        days: Some(8),
        uri: "WEEKLY",
    },
    Frequency {
        code: "monthly",
        en: "Monthly",
        fr: "Mensuelle",
        days: Some(32),
        uri: "MONTHLY",
    },
    Frequency {
        code: "quarterly",
        en: "Quarterly",
        fr: "Trimestrielle",
        days: Some(93),
        uri: "QUARTERLY",
    },
    Frequency {
        code: "semiannual",
        en: "Twice a year",
        fr: "Semestrielle",
        days: Some(184),
        uri: "ANNUAL_2",
    },
    Frequency {
        code: "annual",
        en: "Yearly",
        fr: "Annuelle",
        days: Some(366),
        uri: "ANNUAL",
    },
    Frequency {
        code: "biennial",
        en: "Every two years",
        fr: "Biennale",
        days: Some(731),
        uri: "BIENNIAL",
    },
    Frequency {
        code: "irregular",
        en: "Irregular",
        fr: "Irrégulière",
        days: None,
        uri: "IRREG",
    },
    Frequency {
        code: "unknown",
        en: "Unknown",
        fr: "Inconnue",
        days: None,
        uri: "UNKNOWN",
    },
];

/// The frequency with this code.
pub fn frequency(code: &str) -> Option<&'static Frequency> {
    FREQUENCIES.iter().find(|f| f.code == code)
}

/// The full URI of a frequency in the EU vocabulary.
pub fn frequency_uri(f: &Frequency) -> String {
    format!("{FREQ}{}", f.uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_explained() {
        for (i, l) in LICENCES.iter().enumerate() {
            assert!(LICENCES[..i].iter().all(|m| m.id != l.id), "{}", l.id);
            assert!(!l.explain_en.is_empty() && !l.explain_fr.is_empty());
        }
        assert!(licence("lov2").unwrap().open);
        assert!(!licence("notspecified").unwrap().open);
        assert_eq!(frequency("monthly").unwrap().days, Some(32));
    }
}
