//! Entry names that are safe to extract and unique inside one archive.

use std::collections::HashSet;

/// Hands out entry names: relative, without `.`/`..` segments or backslashes (an extractor
/// must never be led outside its directory), and unique (`a.txt`, `a (2).txt`, …) because two
/// items may share a name (a message subject, a restored copy beside its original).
#[derive(Debug, Default)]
pub struct EntryNames {
    used: HashSet<String>,
}

impl EntryNames {
    pub fn unique(&mut self, path: &str) -> String {
        let clean = sanitize(path);
        if self.used.insert(clean.to_lowercase()) {
            return clean;
        }
        let (stem, ext) = match clean.rfind('.') {
            Some(dot) if dot > clean.rfind('/').map_or(0, |s| s + 1) => clean.split_at(dot),
            _ => (clean.as_str(), ""),
        };
        (2u64..)
            .map(|n| format!("{stem} ({n}){ext}"))
            .find(|candidate| self.used.insert(candidate.to_lowercase()))
            .unwrap_or(clean)
    }
}

fn sanitize(path: &str) -> String {
    let segments: Vec<String> = path
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|s| {
            s.chars()
                .map(|c| if c.is_control() || c == ':' { '_' } else { c })
                .collect()
        })
        .collect();
    if segments.is_empty() {
        "unnamed".to_owned()
    } else {
        segments.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_and_unique() {
        let mut names = EntryNames::default();
        assert_eq!(names.unique("/Docs/../a.txt"), "Docs/a.txt");
        assert_eq!(names.unique("Docs/A.txt"), "Docs/A (2).txt");
        assert_eq!(names.unique("Docs\\a.txt"), "Docs/a (3).txt");
        assert_eq!(names.unique("c:evil"), "c_evil");
        assert_eq!(names.unique("../.."), "unnamed");
        assert_eq!(names.unique("dir.v2/readme"), "dir.v2/readme");
        assert_eq!(names.unique("dir.v2/readme"), "dir.v2/readme (2)");
    }
}
