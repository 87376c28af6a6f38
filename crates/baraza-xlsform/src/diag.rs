//! Diagnostics: every problem found in a form, with where it is and what to do, in French and
//! English.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The language of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

/// One problem, located by sheet, row (1-based, as the spreadsheet shows it) and column (its
/// header name, e.g. `constraint`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub sheet: String,
    pub row: Option<usize>,
    pub column: Option<String>,
    /// Values for the message's `{placeholders}`.
    pub args: Vec<(&'static str, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, sheet: &str) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            sheet: sheet.to_owned(),
            row: None,
            column: None,
            args: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, sheet: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, sheet)
        }
    }

    pub fn at(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }

    pub fn col(mut self, column: &str) -> Self {
        self.column = Some(column.to_owned());
        self
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The message in `lang`, with its location.
    pub fn message(&self, lang: Lang) -> String {
        let (en, fr) = template(self.code);
        let mut text = match lang {
            Lang::En => en,
            Lang::Fr => fr,
        }
        .to_owned();
        for (k, v) in &self.args {
            text = text.replace(&format!("{{{k}}}"), v);
        }
        text
    }

    /// `sheet survey, row 4, column constraint` (or in French).
    pub fn location(&self, lang: Lang) -> String {
        let (sheet, row, col) = match lang {
            Lang::En => ("sheet", "row", "column"),
            Lang::Fr => ("feuille", "ligne", "colonne"),
        };
        let mut s = format!("{sheet} {}", self.sheet);
        if let Some(r) = self.row {
            s.push_str(&format!(", {row} {r}"));
        }
        if let Some(c) = &self.column {
            s.push_str(&format!(", {col} {c}"));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}[{}] {}: {}",
            self.code,
            self.location(Lang::En),
            self.message(Lang::En)
        )
    }
}

/// Every code with its English and French message. Messages say what is wrong and what to do.
pub const CODES: &[(&str, &str, &str)] = &[
    ("file_unreadable", "the file cannot be read as a spreadsheet ({detail}); save it again as .xlsx", "le fichier ne peut pas être lu comme un classeur ({detail}) ; enregistrez-le à nouveau en .xlsx"),
    ("file_too_large", "the file is too large or expands to too much data ({detail}); split the form or remove unused sheets", "le fichier est trop volumineux ou se décompresse en trop de données ({detail}) ; divisez le formulaire ou supprimez les feuilles inutiles"),
    ("file_encoding", "the CSV file is not UTF-8; it was read as Windows-1252: check accented letters, or save it as CSV UTF-8", "le fichier CSV n’est pas en UTF-8 ; il a été lu en Windows-1252 : vérifiez les lettres accentuées, ou enregistrez-le en CSV UTF-8"),
    ("merged_cells", "the cells {range} are merged: only the first one holds a value; unmerge them and fill each cell", "les cellules {range} sont fusionnées : seule la première a une valeur ; défusionnez-les et remplissez chaque cellule"),
    ("sheet_too_large", "the sheet has {count} rows or columns, more than the {max} allowed", "la feuille a {count} lignes ou colonnes, plus que les {max} permises"),
    ("sheet_survey_missing", "there is no sheet named survey; the questions must be on a sheet called survey", "il n’y a pas de feuille nommée survey ; les questions doivent être sur une feuille appelée survey"),
    ("survey_empty", "the survey sheet has no question", "la feuille survey ne contient aucune question"),
    ("header_duplicate", "the column {name} appears twice; keep only one", "la colonne {name} apparaît deux fois ; n’en gardez qu’une"),
    ("column_unknown", "the column {name} is not an XLSForm column and is ignored; check its spelling", "la colonne {name} n’est pas une colonne XLSForm et sera ignorée ; vérifiez son orthographe"),
    ("formula_value", "this cell holds a formula; its last computed value {value} is used: type the value instead", "cette cellule contient une formule ; sa dernière valeur calculée {value} est utilisée : saisissez plutôt la valeur"),
    ("type_missing", "this row has no type; give it a question type such as text or integer", "cette ligne n’a pas de type ; donnez-lui un type de question comme text ou integer"),
    ("type_unknown", "unknown question type {type}; see the list of XLSForm types", "type de question inconnu {type} ; consultez la liste des types XLSForm"),
    ("name_missing", "this question has no name; add a short name in the name column", "cette question n’a pas de nom ; ajoutez un nom court dans la colonne name"),
    ("name_invalid", "the name {name} is not valid: start with a letter or _, then use only letters, digits, _, - and .", "le nom {name} n’est pas valide : commencez par une lettre ou _, puis n’utilisez que des lettres, chiffres, _, - et ."),
    ("name_duplicate", "the name {name} is already used on row {other}; names must be unique within a group", "le nom {name} est déjà utilisé à la ligne {other} ; les noms doivent être uniques dans un groupe"),
    ("label_missing", "{name} has no label or hint; add a label", "{name} n’a ni libellé ni indication ; ajoutez un libellé"),
    ("group_unclosed", "the group {name} is never closed; add an end group row", "le groupe {name} n’est jamais fermé ; ajoutez une ligne end group"),
    ("group_unmatched_end", "end group without a matching begin group", "end group sans begin group correspondant"),
    ("repeat_unclosed", "the repeat {name} is never closed; add an end repeat row", "la répétition {name} n’est jamais fermée ; ajoutez une ligne end repeat"),
    ("repeat_unmatched_end", "end repeat without a matching begin repeat", "end repeat sans begin repeat correspondant"),
    ("choices_list_name_missing", "{type} needs a choice list name, e.g. {type} yes_no", "{type} a besoin d’un nom de liste de choix, par ex. {type} yes_no"),
    ("choices_list_missing", "the choice list {list} is not on the choices sheet", "la liste de choix {list} n’est pas sur la feuille choices"),
    ("choice_name_missing", "this choice has no name", "ce choix n’a pas de nom"),
    ("choice_label_missing", "the choice {name} has no label", "le choix {name} n’a pas de libellé"),
    ("choice_duplicate", "the choice {name} appears twice in the list {list}; remove one, or set allow_choice_duplicates", "le choix {name} apparaît deux fois dans la liste {list} ; supprimez-en un, ou réglez allow_choice_duplicates"),
    ("reference_unknown", "${{name}} refers to no question of this form", "${{name}} ne désigne aucune question de ce formulaire"),
    ("calculation_cycle", "these calculations depend on each other in a circle: {cycle}", "ces calculs dépendent les uns des autres en boucle : {cycle}"),
    ("calculation_missing", "a calculate row needs a calculation", "une ligne calculate a besoin d’un calcul (colonne calculation)"),
    ("expr_syntax", "the expression is malformed near {near}", "l’expression est mal formée près de {near}"),
    ("expr_unclosed_paren", "a parenthesis is not closed", "une parenthèse n’est pas fermée"),
    ("expr_unclosed_string", "a quoted text is not closed", "un texte entre guillemets n’est pas fermé"),
    ("expr_bad_reference", "malformed reference {near}: write ${name}", "référence mal formée {near} : écrivez ${nom}"),
    ("expr_unknown_function", "unknown function {near}", "fonction inconnue {near}"),
    ("expr_arity", "wrong number of arguments: {near}", "nombre d’arguments incorrect : {near}"),
    ("expr_too_deep", "the expression is nested too deeply", "l’expression est trop imbriquée"),
    ("expr_too_long", "the expression is too long", "l’expression est trop longue"),
    ("expr_empty", "the expression is empty", "l’expression est vide"),
    ("range_parameters_invalid", "range parameters must be numbers with a step other than 0: {detail}", "les paramètres de range doivent être des nombres avec un pas différent de 0 : {detail}"),
    ("parameters_invalid", "the parameters {detail} are not valid for {type}", "les paramètres {detail} ne sont pas valides pour {type}"),
    ("settings_form_id_invalid", "form_id {value} is not valid: use letters, digits, _ and -, starting with a letter", "form_id {value} n’est pas valide : utilisez lettres, chiffres, _ et -, en commençant par une lettre"),
    ("or_other_with_choice_filter", "or_other cannot be used with a choice_filter; add an other choice to the list instead", "or_other ne peut pas être utilisé avec un choice_filter ; ajoutez plutôt un choix other à la liste"),
    ("translation_missing", "{column} has no {lang} translation", "{column} n’a pas de traduction {lang}"),
    ("sensitivity_invalid", "the sensitivity {value} is not known; write public, internal, personal or sensitive", "la sensibilité {value} n’est pas connue ; écrivez publique, interne, personnelle ou sensible (ou public, internal, personal, sensitive)"),
    ("hxl_invalid", "hxl must be an HXL hashtag such as #adm1+name (a # and a tag, then +attributes; letters, digits and _), not {value}", "hxl doit être un hashtag HXL comme #adm1+name (un # et une balise, puis des +attributs ; lettres, chiffres et _), pas {value}"),
    ("quasi_identifier_invalid", "quasi_identifier must be yes or no, not {value}; write yes or no", "quasi_identifier doit valoir yes ou no, pas {value} ; écrivez yes ou no (ou oui, non)"),
    ("retention_days_invalid", "retention_days must be a whole number of days from 1 to 36500, not {value}", "retention_days doit être un nombre entier de jours de 1 à 36500, pas {value}"),
    ("retention_days_file", "retention_days cannot be set on a {type} question yet: its files go with the whole record, under the form's retention", "retention_days ne peut pas encore être indiqué sur une question {type} : ses fichiers partent avec la fiche entière, selon la durée de conservation du formulaire"),
    ("consent_invalid", "consent must be yes or no, not {value}; write yes on the consent question's row", "consent doit valoir yes ou no, pas {value} ; écrivez yes sur la ligne de la question de consentement"),
    ("consent_duplicate", "{name} is a second consent question (the first is on row {other}); keep consent = yes on one question only", "{name} est une deuxième question de consentement (la première est à la ligne {other}) ; ne gardez consent = yes que sur une question"),
    ("consent_type", "the consent question {name} is a {type} question; make it a select_one (or an acknowledge)", "la question de consentement {name} est de type {type} ; faites-en une select_one (ou une acknowledge)"),
    ("consent_in_repeat", "the consent question {name} is inside a repeat; put it outside any repeat, before the other questions", "la question de consentement {name} est dans une répétition ; placez-la hors de toute répétition, avant les autres questions"),
    ("consent_yes_unknown", "the choice {value} named in consent_yes is not in the list {list}; write the name of the choice that means yes", "le choix {value} indiqué dans consent_yes n’est pas dans la liste {list} ; écrivez le nom du choix qui veut dire oui"),
    ("consent_yes_missing", "the list {list} has no choice named yes, oui or 1; name the choice that means consent is given in a consent_yes column", "la liste {list} n’a pas de choix nommé yes, oui ou 1 ; indiquez le choix qui veut dire que le consentement est donné dans une colonne consent_yes"),
    ("consent_yes_alone", "consent_yes is filled in for {name}, which is not the consent question; write consent = yes on this row or empty the cell", "consent_yes est rempli pour {name}, qui n’est pas la question de consentement ; écrivez consent = yes sur cette ligne ou videz la cellule"),
    ("consent_notice_without_question", "consent_notice_version is set but no question has consent = yes; mark the consent question or remove the setting", "consent_notice_version est réglé mais aucune question n’a consent = yes ; marquez la question de consentement ou retirez le réglage"),
    ("sensitivity_assumed", "{name} is a {type} question, so it is assumed to hold personal data; confirm by writing personal (or another level) in its sensitivity column", "{name} est une question {type}, elle est donc considérée comme une donnée personnelle ; confirmez en écrivant personal (ou un autre niveau) dans sa colonne sensitivity"),
    ("sensitivity_assumed_name", "{name} is assumed to hold personal data because its name contains {word}; confirm by writing personal (or another level) in its sensitivity column", "{name} est considérée comme une donnée personnelle car son nom contient {word} ; confirmez en écrivant personal (ou un autre niveau) dans sa colonne sensitivity"),
];

fn template(code: &str) -> (&'static str, &'static str) {
    CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, en, fr)| (*en, *fr))
        .unwrap_or(("{code}", "{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bilingual_and_located() {
        let d = Diagnostic::error("type_unknown", "survey")
            .at(4)
            .col("type")
            .arg("type", "txet");
        assert_eq!(
            d.message(Lang::En),
            "unknown question type txet; see the list of XLSForm types"
        );
        assert!(d
            .message(Lang::Fr)
            .starts_with("type de question inconnu txet"));
        assert_eq!(
            d.location(Lang::Fr),
            "feuille survey, ligne 4, colonne type"
        );
        assert_eq!(d.to_string(), "error[type_unknown] sheet survey, row 4, column type: unknown question type txet; see the list of XLSForm types");
        let r = Diagnostic::error("reference_unknown", "survey").arg("name", "agee");
        assert_eq!(
            r.message(Lang::En),
            "${agee} refers to no question of this form"
        );
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (c, en, fr) in CODES {
            assert!(seen.insert(*c), "{c}");
            assert!(!en.is_empty() && !fr.is_empty());
        }
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn docs_list_every_code() {
        let doc = include_str!("../../../docs/xlsform.md");
        for (code, _, _) in super::CODES {
            assert!(
                doc.contains(&format!("| `{code}` |")),
                "docs/xlsform.md lacks {code}"
            );
        }
    }
}
