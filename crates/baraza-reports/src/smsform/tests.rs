use super::*;

const WATER: &str = "\
| survey | | | | | | |
| | type | name | label::English (en) | label::Français (fr) | required | hint |
| | integer | pompes | Number of pumps | Nombre de pompes | yes | |
| | text | village | Village | Village | yes | |
| | select_one etat | etat | State | État | yes | |
| | note | merci | Thanks | Merci | | |
| | text | remarque | Remark | Remarque | | |
| choices | | | | |
| | list_name | name | label::English (en) | label::Français (fr) |
| | etat | ok | Working | Fonctionne |
| | etat | panne | Broken | En panne |
| settings | | | |
| | form_id | prefix | default_language |
| | eau | EAU | Français (fr) |
";

fn water() -> SmsForm {
    SmsForm::from_xlsform(
        WATER.as_bytes(),
        Format::Markdown,
        "eau",
        &[("WATER".to_owned(), Lang::En)],
    )
    .expect("builds")
}

fn text(a: &SmsAnswers, name: &str) -> String {
    match a.get(name) {
        Some(Answer::Text(t)) | Some(Answer::Choice(t)) | Some(Answer::Decimal(t)) => t.clone(),
        Some(Answer::Integer(n)) => n.to_string(),
        None => "-".into(),
    }
}

#[test]
fn the_form_is_read_from_the_spreadsheet() {
    let f = water();
    assert_eq!(
        f.keywords,
        vec![("EAU".to_owned(), Lang::Fr), ("WATER".to_owned(), Lang::En)]
    );
    let tags: Vec<(&str, &str)> = f
        .questions
        .iter()
        .map(|q| (q.name.as_str(), q.tag.as_str()))
        .collect();
    // The note is not asked; tags follow the questions that are.
    assert_eq!(
        tags,
        vec![
            ("pompes", "q1"),
            ("village", "q2"),
            ("etat", "q3"),
            ("remarque", "q4")
        ]
    );
    assert!(f.questions[0].required && !f.questions[3].required);
    assert_eq!(f.questions[2].label_fr, "État");
    assert_eq!(f.questions[2].label_en, "State");
}

#[test]
fn positional_message_is_typed_per_question() {
    let a = water().parse("EAU 3 KHOUMA PANNE").unwrap();
    assert_eq!(a.lang, Lang::Fr);
    assert_eq!(a.get("pompes"), Some(&Answer::Integer(3)));
    assert_eq!(a.get("village"), Some(&Answer::Text("KHOUMA".into())));
    assert_eq!(a.get("etat"), Some(&Answer::Choice("panne".into())));
    assert_eq!(a.get("remarque"), None);
    // The last text question takes the rest; a choice by number; any case for the keyword.
    let a = water()
        .parse("eau 3 Khouma 2 puits à sec depuis lundi")
        .unwrap();
    assert_eq!(text(&a, "etat"), "panne");
    assert_eq!(text(&a, "remarque"), "puits à sec depuis lundi");
    // A choice by its label, without regard to case or accents.
    let a = water().parse("WATER 1 Mao fonctionne").unwrap();
    assert_eq!(a.lang, Lang::En);
    assert_eq!(text(&a, "etat"), "ok");
    assert_eq!(
        a.confirmation("WATER"),
        "WATER: thank you, your report was received."
    );
}

#[test]
fn tagged_message_in_any_order_with_several_words() {
    let a = water()
        .parse("EAU q3 panne Q1 3 q2 Khouma Abdel q4 la pompe fuit")
        .unwrap();
    assert_eq!(a.get("pompes"), Some(&Answer::Integer(3)));
    assert_eq!(text(&a, "village"), "Khouma Abdel");
    assert_eq!(text(&a, "etat"), "panne");
    assert_eq!(text(&a, "remarque"), "la pompe fuit");
    let e = water().parse("EAU q1 3 q2 Mao q1 4 q3 ok").unwrap_err();
    assert_eq!(e.reply(), "EAU : q1 (Nombre de pompes) a deux réponses.");
}

#[test]
fn mistakes_are_answered_in_the_keywords_language_naming_the_question() {
    let e = water().parse("EAU trois KHOUMA PANNE").unwrap_err();
    assert_eq!(e.question().unwrap().name, "pompes");
    assert_eq!(
        e.reply(),
        "EAU : q1 (Nombre de pompes) : « trois » n'est pas valable, un nombre entier attendu."
    );
    let e = water().parse("WATER 3 KHOUMA cassé").unwrap_err();
    assert_eq!(
        e.reply(),
        "WATER: q3 (State): \"cassé\" is not valid, one of 1=ok, 2=panne expected."
    );
    let e = water().parse("EAU 3 KHOUMA 3").unwrap_err();
    assert!(matches!(e.problem, Problem::NotAChoice(_, ref v) if v == "3"));
    let e = water().parse("EAU 3").unwrap_err();
    assert_eq!(
        e.reply(),
        "EAU : réponse manquante pour q2 (Village) : du texte attendu."
    );
    let e = water().parse("EAU q1 3 q2 Mao").unwrap_err();
    assert_eq!(e.question().unwrap().tag, "q3");
    let e = water().parse("   ").unwrap_err();
    assert_eq!(e.problem, Problem::Empty);
    let e = water().parse("PLUIE 3 Mao ok").unwrap_err();
    assert_eq!(
        e.reply(),
        "Mot-clé « PLUIE » inconnu. Commencez votre message par EAU ou WATER."
    );
    // Long hostile values are shortened in the reply.
    let long = format!("EAU {} Mao ok", "9".repeat(400));
    let e = water().parse(&long).unwrap_err();
    assert!(e.reply().chars().count() < 160, "{}", e.reply());
}

const WELL: &str = "\
| survey | | | | | |
| | type | name | label | required | compact_tag |
| | decimal | profondeur | Profondeur (m) | yes | p |
| | select_one etat | etat | État | yes | e |
| | integer | familles | Familles | | f |
| choices | | | |
| | list_name | name | label |
| | etat | ok | OK |
| | etat | sec | À sec |
| settings | | | |
| | form_id | prefix | delimiter |
| | puits | PUITS | * |
";

#[test]
fn compact_tags_prefix_and_delimiter_from_the_settings() {
    let f = SmsForm::from_xlsform(WELL.as_bytes(), Format::Markdown, "puits", &[]).unwrap();
    assert_eq!(f.delimiter, Some('*'));
    assert_eq!(f.keywords, vec![("PUITS".to_owned(), Lang::En)]);
    let a = f.parse("puits*12,5*a sec*40").unwrap();
    assert_eq!(a.get("profondeur"), Some(&Answer::Decimal("12.5".into())));
    assert_eq!(text(&a, "etat"), "sec");
    assert_eq!(a.get("familles"), Some(&Answer::Integer(40)));
    let a = f.parse("PUITS e*ok*p*.5").unwrap();
    assert_eq!(a.get("profondeur"), Some(&Answer::Decimal("0.5".into())));
    assert_eq!(a.get("familles"), None);
    let e = f.parse("PUITS*3*ok*4*5").unwrap_err();
    assert_eq!(
        e.reply(),
        "PUITS: 4 values for 3 questions. Send one value per question, in order."
    );
    let e = f.parse("PUITS*3.2.1*ok").unwrap_err();
    assert!(matches!(e.problem, Problem::NotDecimal(..)), "{e:?}");
    assert!(f.parse("PUITS*inf*ok").is_err());
    assert!(f.parse("PUITS*-*ok").is_err());
}

#[test]
fn forms_that_cannot_be_sms_forms_are_refused_with_the_reason() {
    let gps = "| survey | | | | |\n| | type | name | label | required |\n| | geopoint | lieu | Lieu | yes |\n| | text | t | T | |\n";
    assert!(matches!(
        SmsForm::from_xlsform(gps.as_bytes(), Format::Markdown, "f", &[]),
        Err(BuildError::Unsupported { question, .. }) if question == "lieu"
    ));
    // An optional geopoint is just not asked.
    let opt = gps.replace("| yes |\n| | text", "| |\n| | text");
    let f = SmsForm::from_xlsform(opt.as_bytes(), Format::Markdown, "f", &[]).unwrap();
    assert_eq!(f.questions.len(), 1);

    let dup = "| survey | | | | |\n| | type | name | label | compact_tag |\n| | text | a | A | x |\n| | text | b | B | X |\n";
    assert!(matches!(
        SmsForm::from_xlsform(dup.as_bytes(), Format::Markdown, "f", &[]),
        Err(BuildError::DuplicateTag { .. })
    ));
    let bad_tag = dup.replace("| X |", "| 2 |");
    assert!(matches!(
        SmsForm::from_xlsform(bad_tag.as_bytes(), Format::Markdown, "f", &[]),
        Err(BuildError::Tag { .. })
    ));
    let notes = "| survey | | | |\n| | type | name | label |\n| | note | n | N |\n";
    assert_eq!(
        SmsForm::from_xlsform(notes.as_bytes(), Format::Markdown, "f", &[]),
        Err(BuildError::NoQuestion)
    );
    let broken = "| survey | | | |\n| | type | name | label |\n| | integer | | N |\n";
    assert!(matches!(
        SmsForm::from_xlsform(broken.as_bytes(), Format::Markdown, "f", &[]),
        Err(BuildError::Form(_))
    ));
    assert!(matches!(
        SmsForm::from_xlsform(
            WATER.as_bytes(),
            Format::Markdown,
            "eau",
            &[("EAU POTABLE".into(), Lang::Fr)]
        ),
        Err(BuildError::Keyword(_))
    ));
}

#[test]
fn messages_are_routed_by_keyword() {
    let forms = vec![
        water(),
        SmsForm::from_xlsform(WELL.as_bytes(), Format::Markdown, "puits", &[]).unwrap(),
    ];
    assert_eq!(route(&forms, "puits*3*ok").unwrap().form_id, "puits");
    assert_eq!(route(&forms, "  water 3 Mao ok").unwrap().form_id, "eau");
    assert!(route(&forms, "bonjour").is_none());
    assert!(route(&forms, "").is_none());
}

#[test]
fn languages_are_guessed_from_their_names() {
    for fr in ["fr", "Français (fr)", "French", "francais"] {
        assert_eq!(Lang::guess(fr), Lang::Fr, "{fr}");
    }
    for en in ["en", "English (en)", "default", "Arabic (ar)"] {
        assert_eq!(Lang::guess(en), Lang::En, "{en}");
    }
}
