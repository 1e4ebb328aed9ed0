//! Interface-name globs for alarm overrides: `*` (any run) and `?` (one
//! character); everything else literal.

pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point per `*`: linear-ish, no
    // recursion, so a hostile pattern cannot blow the stack.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn matches_like_a_shell() {
        assert!(glob_match("vti*", "vti12"));
        assert!(glob_match("*", ""));
        assert!(glob_match("x?rm*", "xfrm-hub"));
        assert!(glob_match("*hub*7", "site-hub-17"));
        assert!(!glob_match("vti?", "vti12"));
        assert!(!glob_match("vti", "vti1"));
        assert!(!glob_match("a*b", "acd"));
    }
}
