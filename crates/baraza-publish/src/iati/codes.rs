//! The IATI codelists Baraza embeds, with English and French names.
//!
//! Taken from the IATI Standard's codelists (version 2.03): OrganisationType,
//! OrganisationRole, ActivityStatus, ActivityDateType, BudgetType, BudgetStatus,
//! TransactionType, Region (vocabulary 1, OECD DAC), a short list of the DAC 5-digit Sector
//! codes that the organisations using Baraza work in, ISO 4217 currencies and ISO 3166-1
//! countries (with `XK`, which IATI's Country codelist adds).

/// One code of a codelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Code {
    pub code: &'static str,
    pub en: &'static str,
    pub fr: &'static str,
}

impl Code {
    /// The name in `lang` (`fr` or anything else for English).
    pub fn name(&self, lang: &str) -> &'static str {
        if lang == "fr" {
            self.fr
        } else {
            self.en
        }
    }
}

const fn c(code: &'static str, en: &'static str, fr: &'static str) -> Code {
    Code { code, en, fr }
}

/// The code of `list` named `code`.
pub fn find(list: &'static [Code], code: &str) -> Option<&'static Code> {
    list.iter().find(|c| c.code == code)
}

/// IATI OrganisationType.
pub const ORGANISATION_TYPES: &[Code] = &[
    c("10", "Government", "Gouvernement"),
    c("11", "Local Government", "Collectivité locale"),
    c("15", "Other Public Sector", "Autre organisme public"),
    c("21", "International NGO", "ONG internationale"),
    c("22", "National NGO", "ONG nationale"),
    c("23", "Regional NGO", "ONG régionale"),
    c(
        "24",
        "Partner Country based NGO",
        "ONG basée dans le pays partenaire",
    ),
    c(
        "30",
        "Public Private Partnership",
        "Partenariat public-privé",
    ),
    c("40", "Multilateral", "Organisation multilatérale"),
    c("60", "Foundation", "Fondation"),
    c("70", "Private Sector", "Secteur privé"),
    c(
        "71",
        "Private Sector in Provider Country",
        "Secteur privé du pays donateur",
    ),
    c(
        "72",
        "Private Sector in Aid Recipient Country",
        "Secteur privé du pays bénéficiaire",
    ),
    c(
        "73",
        "Private Sector in Third Country",
        "Secteur privé d'un pays tiers",
    ),
    c(
        "80",
        "Academic, Training and Research",
        "Enseignement, formation et recherche",
    ),
    c("90", "Other", "Autre"),
];

/// IATI OrganisationRole (of a participating organisation).
pub const ORGANISATION_ROLES: &[Code] = &[
    c("1", "Funding", "Financeur"),
    c("2", "Accountable", "Responsable"),
    c("3", "Extending", "Gestionnaire des fonds"),
    c("4", "Implementing", "Maître d'œuvre"),
];

/// IATI ActivityStatus.
pub const ACTIVITY_STATUSES: &[Code] = &[
    c("1", "Pipeline/identification", "En préparation"),
    c("2", "Implementation", "En cours"),
    c("3", "Finalisation", "En clôture"),
    c("4", "Closed", "Terminée"),
    c("5", "Cancelled", "Annulée"),
    c("6", "Suspended", "Suspendue"),
];

/// IATI ActivityDateType.
pub const ACTIVITY_DATE_TYPES: &[Code] = &[
    c("1", "Planned start", "Début prévu"),
    c("2", "Actual start", "Début effectif"),
    c("3", "Planned end", "Fin prévue"),
    c("4", "Actual end", "Fin effective"),
];

/// IATI BudgetType.
pub const BUDGET_TYPES: &[Code] = &[c("1", "Original", "Initial"), c("2", "Revised", "Révisé")];

/// IATI BudgetStatus.
pub const BUDGET_STATUSES: &[Code] = &[
    c("1", "Indicative", "Indicatif"),
    c("2", "Committed", "Engagé"),
];

/// IATI TransactionType.
pub const TRANSACTION_TYPES: &[Code] = &[
    c("1", "Incoming Funds", "Fonds reçus"),
    c("2", "Outgoing Commitment", "Engagement sortant"),
    c("3", "Disbursement", "Décaissement"),
    c("4", "Expenditure", "Dépense"),
    c("5", "Interest Payment", "Paiement d'intérêts"),
    c("6", "Loan Repayment", "Remboursement de prêt"),
    c("7", "Reimbursement", "Remboursement"),
    c("8", "Purchase of Equity", "Prise de participation"),
    c("9", "Sale of Equity", "Cession de participation"),
    c("10", "Credit Guarantee", "Garantie de crédit"),
    c("11", "Incoming Commitment", "Engagement reçu"),
    c("12", "Outgoing Pledge", "Promesse de don sortante"),
    c("13", "Incoming Pledge", "Promesse de don reçue"),
];

/// OECD DAC regions (IATI Region, vocabulary 1).
pub const REGIONS: &[Code] = &[
    c("89", "Europe, regional", "Europe, régional"),
    c(
        "189",
        "North of Sahara, regional",
        "Afrique du Nord, régional",
    ),
    c(
        "289",
        "South of Sahara, regional",
        "Afrique subsaharienne, régional",
    ),
    c("298", "Africa, regional", "Afrique, régional"),
    c(
        "389",
        "North & Central America, regional",
        "Amérique du Nord et centrale, régional",
    ),
    c(
        "489",
        "South America, regional",
        "Amérique du Sud, régional",
    ),
    c("498", "America, regional", "Amérique, régional"),
    c("589", "Middle East, regional", "Moyen-Orient, régional"),
    c("619", "Central Asia, regional", "Asie centrale, régional"),
    c("679", "South Asia, regional", "Asie du Sud, régional"),
    c(
        "689",
        "South & Central Asia, regional",
        "Asie du Sud et centrale, régional",
    ),
    c("789", "Far East Asia, regional", "Extrême-Orient, régional"),
    c("798", "Asia, regional", "Asie, régional"),
    c("889", "Oceania, regional", "Océanie, régional"),
    c(
        "998",
        "Developing countries, unspecified",
        "Pays en développement, non spécifié",
    ),
    c(
        "1027",
        "Eastern Africa, regional",
        "Afrique de l'Est, régional",
    ),
    c(
        "1028",
        "Middle Africa, regional",
        "Afrique centrale, régional",
    ),
    c(
        "1029",
        "Southern Africa, regional",
        "Afrique australe, régional",
    ),
    c(
        "1030",
        "Western Africa, regional",
        "Afrique de l'Ouest, régional",
    ),
    c("1031", "Caribbean, regional", "Caraïbes, régional"),
    c(
        "1032",
        "Central America, regional",
        "Amérique centrale, régional",
    ),
];

/// DAC 5-digit sectors (IATI Sector, vocabulary 1) that our users work in.
pub const SECTORS: &[Code] = &[
    c(
        "11110",
        "Education policy and administrative management",
        "Politique de l'éducation et gestion administrative",
    ),
    c("11220", "Primary education", "Enseignement primaire"),
    c(
        "11230",
        "Basic life skills for adults",
        "Compétences de base pour les adultes",
    ),
    c(
        "11240",
        "Early childhood education",
        "Éducation de la petite enfance",
    ),
    c(
        "11320",
        "Upper secondary education",
        "Enseignement secondaire (deuxième cycle)",
    ),
    c(
        "12110",
        "Health policy and administrative management",
        "Politique de la santé et gestion administrative",
    ),
    c("12220", "Basic health care", "Soins de santé de base"),
    c("12240", "Basic nutrition", "Nutrition de base"),
    c(
        "12250",
        "Infectious disease control",
        "Lutte contre les maladies infectieuses",
    ),
    c("12261", "Health education", "Éducation sanitaire"),
    c(
        "13020",
        "Reproductive health care",
        "Soins en matière de santé reproductive",
    ),
    c(
        "14010",
        "Water sector policy and administrative management",
        "Politique du secteur de l'eau et gestion administrative",
    ),
    c(
        "14030",
        "Basic drinking water supply and basic sanitation",
        "Approvisionnement en eau potable et assainissement de base",
    ),
    c(
        "14031",
        "Basic drinking water supply",
        "Approvisionnement de base en eau potable",
    ),
    c("14032", "Basic sanitation", "Assainissement de base"),
    c(
        "14081",
        "Education and training in water supply and sanitation",
        "Éducation et formation dans le secteur de l'eau et de l'assainissement",
    ),
    c(
        "15110",
        "Public sector policy and administrative management",
        "Politique et gestion administrative du secteur public",
    ),
    c(
        "15150",
        "Democratic participation and civil society",
        "Participation démocratique et société civile",
    ),
    c("15160", "Human rights", "Droits de la personne"),
    c(
        "15170",
        "Women's rights organisations and movements, and government institutions",
        "Organisations et mouvements de défense des droits des femmes, et institutions publiques",
    ),
    c(
        "15180",
        "Ending violence against women and girls",
        "Lutte contre les violences faites aux femmes et aux filles",
    ),
    c(
        "15220",
        "Civilian peace-building, conflict prevention and resolution",
        "Consolidation de la paix, prévention et règlement des conflits",
    ),
    c("16010", "Social protection", "Protection sociale"),
    c(
        "16062",
        "Statistical capacity building",
        "Renforcement des capacités statistiques",
    ),
    c(
        "31120",
        "Agricultural development",
        "Développement agricole",
    ),
    c(
        "31161",
        "Food crop production",
        "Production de cultures vivrières",
    ),
    c(
        "43072",
        "Household food security programmes",
        "Programmes de sécurité alimentaire des ménages",
    ),
    c(
        "72010",
        "Material relief assistance and services",
        "Assistance matérielle et services de secours",
    ),
    c(
        "72040",
        "Emergency food assistance",
        "Aide alimentaire d'urgence",
    ),
    c(
        "72050",
        "Relief co-ordination and support services",
        "Coordination des secours et services de soutien",
    ),
    c(
        "73010",
        "Immediate post-emergency reconstruction and rehabilitation",
        "Reconstruction et réhabilitation immédiates après l'urgence",
    ),
    c(
        "74020",
        "Multi-hazard response preparedness",
        "Préparation à l'intervention face à des risques multiples",
    ),
];

/// ISO 4217 currencies in use (IATI Currency, with `XDR`).
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB \
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR \
MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF \
SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD \
TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XDR XOF XPF YER ZAR ZMW ZWL";

/// ISO 3166-1 alpha-2 countries (IATI Country, with `XK`).
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ \
GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS \
MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT \
PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF \
TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA \
ZM ZW";

/// Whether `code` is an ISO 4217 currency in use.
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && CURRENCIES.split_ascii_whitespace().any(|c| c == code)
}

/// The currencies, in code order (for choosers).
pub fn currencies() -> impl Iterator<Item = &'static str> {
    CURRENCIES.split_ascii_whitespace()
}

/// Whether `code` is an ISO 3166-1 alpha-2 country.
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split_ascii_whitespace().any(|c| c == code)
}

/// The countries, in code order (for choosers).
pub fn countries() -> impl Iterator<Item = &'static str> {
    COUNTRIES.split_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_unique_and_named() {
        for list in [
            ORGANISATION_TYPES,
            ORGANISATION_ROLES,
            ACTIVITY_STATUSES,
            ACTIVITY_DATE_TYPES,
            BUDGET_TYPES,
            BUDGET_STATUSES,
            TRANSACTION_TYPES,
            REGIONS,
            SECTORS,
        ] {
            let nums: Vec<u32> = list.iter().map(|c| c.code.parse().unwrap()).collect();
            assert!(nums.windows(2).all(|w| w[0] < w[1]), "{nums:?}");
            assert!(list.iter().all(|c| !c.en.is_empty() && !c.fr.is_empty()));
        }
        assert!(SECTORS.iter().all(|s| s.code.len() == 5));
        assert_eq!(TRANSACTION_TYPES.len(), 13);
        let cur: Vec<&str> = currencies().collect();
        assert!(cur.windows(2).all(|w| w[0] < w[1]) && cur.iter().all(|c| c.len() == 3));
        let cty: Vec<&str> = countries().collect();
        assert!(cty.windows(2).all(|w| w[0] < w[1]) && cty.iter().all(|c| c.len() == 2));
        assert_eq!(cty.len(), 250);
        assert!(is_currency("XAF") && is_currency("EUR") && !is_currency("xaf"));
        assert!(is_country("TD") && is_country("KE") && !is_country("ZZ"));
        assert_eq!(
            find(SECTORS, "14031").unwrap().name("fr"),
            "Approvisionnement de base en eau potable"
        );
    }
}
