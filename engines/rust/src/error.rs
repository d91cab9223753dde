//! The one error a user's mistake becomes: a bad option, a missing or bad file, a bad record,
//! or (with `--strict`) an unknown order id. `main` prints it as one line on stderr and exits 2.

use std::fmt;

/// Bad input from the user, its message naming the file and the record (from 0) or the option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path as Python's `str(pathlib.Path(text))` shows it, so that messages name a file exactly
/// as the Python reader does: repeated slashes and `.` components dropped, no trailing slash.
pub fn display_path(text: &str) -> String {
    if text.is_empty() {
        return ".".to_string();
    }
    // POSIX keeps exactly two leading slashes; one, or three and more, become one.
    let lead = if text.starts_with("//") && !text.starts_with("///") {
        "//"
    } else if text.starts_with('/') {
        "/"
    } else {
        ""
    };
    let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let joined = format!("{lead}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::display_path;

    #[test]
    fn paths_show_as_pathlib_shows_them() {
        assert_eq!(display_path("./a.dbn"), "a.dbn");
        assert_eq!(display_path("a//b/./c/"), "a/b/c");
        assert_eq!(display_path("/x/../y"), "/x/../y");
        assert_eq!(display_path("//x"), "//x");
        assert_eq!(display_path("///x"), "/x");
        assert_eq!(display_path("."), ".");
        assert_eq!(display_path(""), ".");
        assert_eq!(display_path("/"), "/");
    }
}
