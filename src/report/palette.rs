//! Colours and line styles: one [`Style`] (colour and dash pattern) per start, the same in
//! every picture of a report and in its explorer, and a colour per class for
//! decision-boundary pictures.
//!
//! The start colours are Okabe & Ito's colour-blind-safe palette (*Color Universal Design*,
//! 2008) without its yellow, which is too pale on white for a 2-pixel line: seven colours.
//! Twenty-five built-in schemes need more than seven, so a style is a colour *and* a dash
//! pattern (solid, dashed, dotted, dash-dot: 28 pairs), and no two starts of one figure
//! share both:
//!
//! - every built-in scheme has a fixed style ([`KNOWN`]), pairwise distinct, so a reader
//!   who learnt that Xavier is the solid blue line finds it so in every report. The starts
//!   of the built-in experiments are all solid and of seven different colours except
//!   `constant`, the dashed black of its family `zeros`; families share a colour only with
//!   different dashes (`he-uniform` is `he-normal`'s green, dashed);
//! - any other start (a scheme with parameters, `huge:std=5`; a formula; a custom name)
//!   takes the first style no other start of the same results uses: its scheme's colour
//!   with the next free dash if its name starts with a built-in scheme's, else the first
//!   free pair, solid lines first. [`Styles::new`] assigns them once per results directory,
//!   in the order of the starts, and every picture and the explorer read that assignment.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Okabe–Ito black.
pub const BLACK: Rgb = Rgb(0x00, 0x00, 0x00);
/// Okabe–Ito orange.
pub const ORANGE: Rgb = Rgb(0xe6, 0x9f, 0x00);
/// Okabe–Ito sky blue.
pub const SKY_BLUE: Rgb = Rgb(0x56, 0xb4, 0xe9);
/// Okabe–Ito bluish green.
pub const BLUISH_GREEN: Rgb = Rgb(0x00, 0x9e, 0x73);
/// Okabe–Ito blue.
pub const BLUE: Rgb = Rgb(0x00, 0x72, 0xb2);
/// Okabe–Ito vermillion.
pub const VERMILLION: Rgb = Rgb(0xd5, 0x5e, 0x00);
/// Okabe–Ito reddish purple.
pub const REDDISH_PURPLE: Rgb = Rgb(0xcc, 0x79, 0xa7);

/// The start colours, in the order free styles are handed out.
pub const COLORS: [Rgb; 7] = [
    BLUE,
    VERMILLION,
    BLUISH_GREEN,
    ORANGE,
    REDDISH_PURPLE,
    SKY_BLUE,
    BLACK,
];

/// The dash pattern of a start's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dash {
    /// A continuous line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
    /// Dash, dot.
    DashDot,
}

impl Dash {
    /// Every pattern, solid first.
    pub const ALL: [Dash; 4] = [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::DashDot];

    /// The SVG `stroke-dasharray` of a 2-pixel line, `None` for a solid one.
    pub fn dasharray(self) -> Option<&'static str> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some("9 4"),
            Dash::Dotted => Some("2 3"),
            Dash::DashDot => Some("9 3 2 3"),
        }
    }

    /// The pattern's name, as the explorer's data gives it.
    pub fn name(self) -> &'static str {
        match self {
            Dash::Solid => "solid",
            Dash::Dashed => "dashed",
            Dash::Dotted => "dotted",
            Dash::DashDot => "dash-dot",
        }
    }

    /// The pattern's position in [`Dash::ALL`].
    pub fn index(self) -> usize {
        Dash::ALL.iter().position(|d| *d == self).unwrap_or(0)
    }
}

/// How a start is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Style {
    /// Line, band, marker and legend colour.
    pub color: Rgb,
    /// Line pattern.
    pub dash: Dash,
}

const fn style(color: Rgb, dash: Dash) -> Style {
    Style { color, dash }
}

/// The fixed styles of the built-in schemes (every name of `initlab list`). Families share
/// a colour with different dashes.
pub const KNOWN: &[(&str, Style)] = &[
    ("zeros", style(BLACK, Dash::Solid)),
    ("constant", style(BLACK, Dash::Dashed)),
    ("tiny", style(SKY_BLUE, Dash::Solid)),
    ("normal", style(SKY_BLUE, Dash::Dotted)),
    ("uniform", style(SKY_BLUE, Dash::DashDot)),
    ("truncated-normal", style(SKY_BLUE, Dash::Dashed)),
    ("huge", style(VERMILLION, Dash::Solid)),
    ("xavier-normal", style(BLUE, Dash::Solid)),
    ("variance-scaling", style(BLUE, Dash::Dashed)),
    ("orthogonal", style(BLUE, Dash::Dotted)),
    ("lsuv", style(BLUE, Dash::DashDot)),
    ("xavier-uniform", style(REDDISH_PURPLE, Dash::Solid)),
    ("keras-default", style(REDDISH_PURPLE, Dash::Dashed)),
    ("he-normal", style(BLUISH_GREEN, Dash::Solid)),
    ("he-uniform", style(BLUISH_GREEN, Dash::Dashed)),
    ("mean-field", style(BLUISH_GREEN, Dash::Dotted)),
    ("glorot-standard", style(ORANGE, Dash::Solid)),
    ("pytorch-default", style(ORANGE, Dash::Dashed)),
    ("lecun-normal", style(ORANGE, Dash::Dotted)),
    ("lecun-uniform", style(ORANGE, Dash::DashDot)),
    ("critical", style(BLUISH_GREEN, Dash::DashDot)),
    ("zero-hadamard", style(BLACK, Dash::Dotted)),
    ("fixup", style(VERMILLION, Dash::Dashed)),
    ("rezero", style(REDDISH_PURPLE, Dash::Dotted)),
    ("skipinit", style(BLACK, Dash::DashDot)),
    ("gradinit", style(VERMILLION, Dash::Dotted)),
    ("metainit", style(REDDISH_PURPLE, Dash::DashDot)),
];

/// The fixed style of a built-in scheme's name (case-insensitive).
pub fn known_style(name: &str) -> Option<Style> {
    KNOWN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, s)| *s)
}

/// The style of every start of one results directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Styles {
    entries: Vec<(String, Style)>,
}

impl Styles {
    /// Assigns styles to `starts` (in this order; repeated names count once): built-in
    /// schemes their fixed style, the others the first style still free (see the module
    /// documentation). Distinct for up to 28 starts; past that, styles repeat.
    pub fn new<S: AsRef<str>>(starts: &[S]) -> Styles {
        let mut names: Vec<&str> = Vec::new();
        for s in starts {
            if !names.contains(&s.as_ref()) {
                names.push(s.as_ref());
            }
        }
        let mut taken: Vec<Style> = names.iter().filter_map(|n| known_style(n)).collect();
        let all: Vec<Style> = Dash::ALL
            .iter()
            .flat_map(|d| COLORS.iter().map(|c| style(*c, *d)))
            .collect();
        let mut extra = 0;
        let entries = names
            .iter()
            .map(|name| {
                if let Some(s) = known_style(name) {
                    return (name.to_string(), s);
                }
                // The scheme's colour first, then every other pair.
                let family = name
                    .split([':', '(', ' '])
                    .next()
                    .and_then(known_style)
                    .map(|f| {
                        Dash::ALL
                            .iter()
                            .map(|d| style(f.color, *d))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let free = family
                    .into_iter()
                    .chain(all.iter().copied())
                    .find(|s| !taken.contains(s));
                let s = free.unwrap_or_else(|| {
                    extra += 1;
                    all[(extra - 1) % all.len()]
                });
                taken.push(s);
                (name.to_string(), s)
            })
            .collect();
        Styles { entries }
    }

    /// The style of `start`: its assigned one, or for a start not given to
    /// [`Styles::new`] its fixed style, else the first free one.
    pub fn get(&self, start: &str) -> Style {
        if let Some((_, s)) = self.entries.iter().find(|(n, _)| n == start) {
            return *s;
        }
        let mut names: Vec<&str> = self.entries.iter().map(|(n, _)| n.as_str()).collect();
        names.push(start);
        Styles::new(&names).get(start)
    }

    /// The starts and their styles, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Style)> {
        self.entries.iter().map(|(n, s)| (n.as_str(), *s))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::load::{BUILTINS, Experiment};

    fn assert_distinct(styles: &Styles, what: &str) {
        let all: Vec<(&str, Style)> = styles.iter().collect();
        for (i, (a, sa)) in all.iter().enumerate() {
            for (b, sb) in &all[i + 1..] {
                assert_ne!(sa, sb, "{what}: {a} and {b} share colour and dash");
            }
        }
    }

    #[test]
    fn every_built_in_scheme_has_its_own_style() {
        let names: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
        assert_distinct(&Styles::new(&names), "built-in schemes");
        for scheme in crate::nn::init::SCHEMES {
            assert!(
                known_style(scheme.name).is_some(),
                "{} has no fixed style",
                scheme.name
            );
        }
    }

    #[test]
    fn starts_of_each_built_in_experiment_are_distinct_and_fixed() {
        for (name, _) in BUILTINS {
            let e = Experiment::load(name).unwrap();
            let starts: Vec<String> = e.inits.iter().map(|i| i.label.clone()).collect();
            let styles = Styles::new(&starts);
            assert_distinct(&styles, name);
            // Same start, same style, whatever else is in the figure.
            for s in &starts {
                assert_eq!(styles.get(s), Styles::new(&[s]).get(s), "{name}: {s}");
            }
            // Only a family shares a colour, and then with another dash; the built-in
            // experiments' starts are solid but for `constant`.
            let colors: Vec<Rgb> = styles.iter().map(|(_, s)| s.color).collect();
            for (i, (a, sa)) in styles.iter().enumerate() {
                if colors.iter().filter(|c| **c == sa.color).count() > 1 {
                    assert!(
                        ["zeros", "constant"].contains(&a),
                        "{name}: {a} shares its colour (index {i})"
                    );
                }
            }
        }
    }

    #[test]
    fn the_three_glorot_bengio_starts_have_three_colours() {
        let s = Styles::new(&["glorot-standard", "xavier-normal", "xavier-uniform"]);
        let c: Vec<Rgb> = s.iter().map(|(_, s)| s.color).collect();
        assert!(c[0] != c[1] && c[1] != c[2] && c[0] != c[2], "{c:?}");
        assert!(s.iter().all(|(_, s)| s.dash == Dash::Solid));
    }

    #[test]
    fn other_starts_take_free_styles_in_their_family_first() {
        let s = Styles::new(&[
            "huge",
            "huge:std=5",
            "my-init",
            "xavier-normal",
            "he-normal",
        ]);
        assert_eq!(s.get("huge"), style(VERMILLION, Dash::Solid));
        assert_eq!(s.get("huge:std=5"), style(VERMILLION, Dash::Dashed));
        // The first solid colour not taken: blue, vermillion and green are.
        assert_eq!(s.get("my-init"), style(ORANGE, Dash::Solid));
        assert_distinct(&s, "mixed");
        // 28 custom names: all distinct; a 29th repeats.
        let many: Vec<String> = (0..28).map(|i| format!("custom-{i}")).collect();
        assert_distinct(&Styles::new(&many), "28 customs");
        assert_eq!(Styles::new(&["a", "a"]).iter().count(), 1);
        // A start asked for but not given gets a style free of the others.
        let t = Styles::new(&["xavier-normal"]);
        assert_ne!(t.get("other"), t.get("xavier-normal"));
    }

    #[test]
    fn lighten_goes_to_white() {
        assert_eq!(Rgb(0, 0, 0).lighten(1.0), Rgb(255, 255, 255));
        assert_eq!(Rgb(10, 20, 30).lighten(0.0), Rgb(10, 20, 30));
    }
}
