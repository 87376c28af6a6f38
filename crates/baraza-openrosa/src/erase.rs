//! Erasing some answers from a stored submission's XML, for the retention of single questions:
//! every element at one of the given paths (the form model's, without repeat indexes, e.g.
//! `/data/contact/telephone`) is kept, empty, so that the document keeps its shape and still
//! reads against its form; everything else is written back as it was read.

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};
use std::collections::HashSet;

/// Why an XML document could not be rewritten.
#[derive(Debug, thiserror::Error)]
#[error("the stored XML cannot be read: {0}")]
pub struct EraseError(String);

/// `xml` with the contents of the elements at `paths` removed; `None` when there was nothing
/// to remove. The stored XML was accepted by [`crate::parse_submission`], so it holds no DTD.
pub fn erase_answers(xml: &str, paths: &HashSet<String>) -> Result<Option<String>, EraseError> {
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len()));
    let mut stack: Vec<String> = Vec::new();
    // The depth of the element being emptied, while inside it.
    let mut erasing: Option<usize> = None;
    let mut changed = false;
    loop {
        let event = reader.read_event().map_err(|e| EraseError(e.to_string()))?;
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_owned();
                stack.push(name);
                if erasing.is_some() {
                    continue;
                }
                if paths.contains(&path_of(&stack)) {
                    erasing = Some(stack.len());
                }
            }
            Event::End(_) => {
                let depth = stack.len();
                stack.pop();
                match erasing {
                    Some(d) if d == depth => erasing = None,
                    Some(_) => continue,
                    None => {}
                }
            }
            Event::Empty(_) if erasing.is_some() => continue,
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if erasing.is_some() => {
                changed = true;
                continue;
            }
            _ if erasing.is_some() => continue,
            _ => {}
        }
        writer
            .write_event(event)
            .map_err(|e| EraseError(e.to_string()))?;
    }
    if !changed {
        return Ok(None);
    }
    String::from_utf8(writer.into_inner())
        .map(Some)
        .map_err(|e| EraseError(e.to_string()))
}

fn path_of(stack: &[String]) -> String {
    let mut p = String::new();
    for s in stack {
        p.push('/');
        p.push_str(s);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_at_the_paths_are_emptied_everywhere_and_the_rest_kept() {
        let xml = "<?xml version='1.0' ?><data id=\"f\" version=\"1\"><tel>066 12 34 56</tel><nom>A &amp; B</nom><m><tel>1</tel><x>keep</x></m><m><tel><![CDATA[2]]></tel></m><meta><instanceID>uuid:1</instanceID></meta></data>";
        let paths: HashSet<String> = ["/data/tel".to_owned(), "/data/m/tel".to_owned()].into();
        let out = erase_answers(xml, &paths).unwrap().unwrap();
        assert_eq!(
            out,
            "<?xml version='1.0' ?><data id=\"f\" version=\"1\"><tel></tel><nom>A &amp; B</nom><m><tel></tel><x>keep</x></m><m><tel></tel></m><meta><instanceID>uuid:1</instanceID></meta></data>"
        );
        // Read back, the document is a submission with those answers empty.
        let sub = crate::parse_submission(out.as_bytes(), &crate::Limits::default()).unwrap();
        assert_eq!(sub.instance_id, "uuid:1");
        // Nothing to erase: nothing to write.
        assert!(erase_answers(&out, &paths).unwrap().is_none());
        assert!(erase_answers(xml, &HashSet::new()).unwrap().is_none());
    }
}
