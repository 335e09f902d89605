//! Colours: one fixed colour per init name, the same in every chart, and a colour per
//! class for decision-boundary pictures.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Mixes this colour with white; `amount` = 0 keeps it, 1 gives white.
    pub fn lighten(self, amount: f64) -> Rgb {
        let a = amount.clamp(0.0, 1.0);
        let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * a).round() as u8;
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }
}

/// Fixed colours for the known init names (Xavier family blues, He family oranges/greens,
/// LeCun purples, the naive starts greys and reds).
const KNOWN: &[(&str, Rgb)] = &[
    ("zeros", Rgb(0x7f, 0x7f, 0x7f)),
    ("constant", Rgb(0xbc, 0xbd, 0x22)),
    ("tiny", Rgb(0x17, 0xbe, 0xcf)),
    ("huge", Rgb(0xd6, 0x27, 0x28)),
    ("normal", Rgb(0x8c, 0x56, 0x4b)),
    ("uniform", Rgb(0xc4, 0x9c, 0x94)),
    ("truncated-normal", Rgb(0x6b, 0x4e, 0x1f)),
    ("xavier-uniform", Rgb(0x1f, 0x77, 0xb4)),
    ("xavier-normal", Rgb(0x39, 0x3b, 0x79)),
    ("he-uniform", Rgb(0xff, 0x7f, 0x0e)),
    ("he-normal", Rgb(0x2c, 0xa0, 0x2c)),
    ("lecun-uniform", Rgb(0x94, 0x67, 0xbd)),
    ("lecun-normal", Rgb(0xe3, 0x77, 0xc2)),
    ("variance-scaling", Rgb(0x63, 0x79, 0x39)),
    ("orthogonal", Rgb(0x84, 0x3c, 0x39)),
    ("glorot-standard", Rgb(0x52, 0x54, 0xa3)),
    ("pytorch-default", Rgb(0xad, 0x49, 0x4a)),
    ("keras-default", Rgb(0xd6, 0x61, 0x6b)),
    ("lsuv", Rgb(0x7b, 0x41, 0x73)),
];

/// The colour of an init: fixed for the known names; for any other name a colour derived
/// from a hash of the name (so it is the same in every chart and every run).
pub fn init_color(name: &str) -> Rgb {
    if let Some((_, c)) = KNOWN.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return *c;
    }
    // FNV-1a: stable across platforms and Rust versions, unlike `DefaultHasher`.
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let hue = f64::from(h % 360);
    let light = 0.38 + f64::from((h >> 9) % 3) * 0.07;
    hsl(hue, 0.6, light)
}

/// The colour of class `k` in decision-boundary pictures.
pub fn class_color(k: usize) -> Rgb {
    const CLASSES: &[Rgb] = &[
        Rgb(0x3b, 0x6e, 0xb5),
        Rgb(0xe0, 0x7b, 0x28),
        Rgb(0x3f, 0x9e, 0x4d),
        Rgb(0xc4, 0x3c, 0x3f),
        Rgb(0x7d, 0x5b, 0xa6),
        Rgb(0x8c, 0x6d, 0x46),
        Rgb(0xd0, 0x6a, 0xb0),
        Rgb(0x6b, 0x6b, 0x6b),
        Rgb(0xa8, 0xa8, 0x1e),
        Rgb(0x1f, 0xa8, 0xb8),
    ];
    CLASSES[k % CLASSES.len()]
}

fn hsl(h: f64, s: f64, l: f64) -> Rgb {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    Rgb(to(r), to(g), to(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_colours_are_distinct() {
        for (i, (a, ca)) in KNOWN.iter().enumerate() {
            for (b, cb) in &KNOWN[i + 1..] {
                assert_ne!(ca, cb, "{a} and {b} share a colour");
            }
        }
    }

    #[test]
    fn fallback_is_deterministic_and_known_names_fixed() {
        assert_eq!(init_color("my-init"), init_color("my-init"));
        assert_eq!(init_color("he-normal").hex(), "#2ca02c");
        assert_ne!(init_color("my-init"), init_color("my-other-init"));
    }

    #[test]
    fn lighten_goes_to_white() {
        assert_eq!(Rgb(0, 0, 0).lighten(1.0), Rgb(255, 255, 255));
        assert_eq!(Rgb(10, 20, 30).lighten(0.0), Rgb(10, 20, 30));
    }
}
