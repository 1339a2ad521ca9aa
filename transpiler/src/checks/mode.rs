//! Butane's "decimal mode" warning: a mode that looks unreasonable, but would be reasonable
//! had its digits been meant as octal, was probably written without the leading zero.

/// Whether `mode` deserves the warning.
pub fn looks_decimal(mode: i64, directory: bool) -> bool {
    match decimal_digits_as_octal(mode) {
        Some(corrected) => !is_typical(mode, directory) && is_typical(corrected, directory),
        None => false,
    }
}

/// Reads the decimal digits of `mode` as octal digits; `None` when out of range or when a
/// digit is 8 or 9.
fn decimal_digits_as_octal(mode: i64) -> Option<i64> {
    if !(0..=7777).contains(&mode) {
        return None;
    }
    let mut out = 0;
    let mut divisor = 1000;
    while divisor > 0 {
        let digit = (mode / divisor) % 10;
        if digit > 7 {
            return None;
        }
        out = (out << 3) | digit;
        divisor /= 10;
    }
    Some(out)
}

/// Whether a mode is unsurprising for a file or a directory.
fn is_typical(mode: i64, directory: bool) -> bool {
    if mode == 0 {
        return true;
    }
    let (mut had_r, mut had_w, mut had_x) = (false, false, false);
    // other, group, user: each more specific class needs the bits of the less specific ones
    for shift in [0, 3, 6] {
        let perm = (mode >> shift) & 7;
        let (r, w, x) = (perm & 4 != 0, perm & 2 != 0, perm & 1 != 0);
        if (!r && had_r) || (!w && had_w) || (!x && had_x) {
            return false;
        }
        if x && had_r && !had_x {
            return false;
        }
        if (w || x) && !r {
            return false;
        }
        had_r |= r;
        had_w |= w;
        had_x |= x;
    }
    if !had_r {
        return false;
    }
    if directory {
        if !had_x || mode & 0o4000 != 0 {
            return false;
        }
        if mode & 0o3000 != 0 && !had_w {
            return false;
        }
    } else {
        if mode & 0o6000 != 0 && (!had_x || mode & 2 != 0) {
            return false;
        }
        if mode & 0o1000 != 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_spellings_of_common_modes_warn() {
        assert!(looks_decimal(644, false));
        assert!(looks_decimal(755, false));
        assert!(looks_decimal(755, true));
        assert!(looks_decimal(600, false));
    }

    #[test]
    fn octal_modes_and_odd_numbers_do_not_warn() {
        assert!(!looks_decimal(0o644, false));
        assert!(!looks_decimal(0o755, true));
        assert!(!looks_decimal(0, false));
        assert!(!looks_decimal(888, false));
        assert!(!looks_decimal(8000, false));
        // 0o1777 is sticky and typical for a directory, 1777 read as decimal is not.
        assert!(looks_decimal(1777, true));
        assert!(!looks_decimal(1777, false));
    }
}
