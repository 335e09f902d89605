//! Formula starts: a student writes the rule of a start as an expression, e.g.
//! `{ name = "formula", std = "sqrt(2 / fan_in)" }` or
//! `{ name = "formula", variance = "2 / (fan_in + fan_out)", distribution = "uniform" }`.
//!
//! The expression may use the numbers and operators of a pocket calculator (`+ - * / ^`,
//! parentheses, unary minus), the functions `sqrt`, `exp`, `ln`, `log10`, `abs`, `min`,
//! `max`, `pow`, the constant `pi`, and five variables of the layer being initialized:
//!
//! | variable  | meaning                                                           |
//! |-----------|-------------------------------------------------------------------|
//! | `fan_in`  | inputs of the layer (columns of its `(out, in)` weight matrix)    |
//! | `fan_out` | outputs of the layer (rows)                                       |
//! | `gain`    | the gain of the activation after the layer (1 for the output one) |
//! | `layer`   | the layer's position, 1 = the first hidden layer, as in layers.csv |
//! | `depth`   | the number of weight layers (hidden layers + the output layer)    |
//!
//! **Common random numbers.** Resolved for one layer, a formula start *is* the plain
//! element-wise scheme of its distribution ([`Init::at_layer`]): `normal` is
//! `N(0, std²)`, `uniform` is `U(±√3·std)`, `truncated-normal` draws the truncated normal
//! with `std / 0.8796` (Keras' convention, so the variance is what the formula says). So a
//! formula start draws the same base numbers as every scheme of its family: the normal
//! formula `sqrt(2 / (fan_in + fan_out))` gives `xavier-normal`'s weights bit for bit.
//!
//! The parser is a small recursive-descent one written for this purpose (no dependency):
//! `expr = term (("+" | "-") term)*`, `term = unary (("*" | "/") unary)*`,
//! `unary = "-" unary | power`, `power = atom ("^" unary)?`,
//! `atom = number | name | name "(" expr ("," expr)* ")" | "(" expr ")"`.
//!
//! Limits, so that no text can exhaust the stack (the parser, the evaluation and the
//! dropping of an expression all recurse): a formula is at most [`MAX_FORMULA_CHARS`]
//! characters long and nests at most [`MAX_FORMULA_NESTING`] levels deep (parentheses,
//! function calls, minus signs and the right side of `^` each open a level). Longer or
//! deeper text is refused with an error that says so.

use std::borrow::Cow;
use std::fmt;

use super::parsing::ParamValue;
use super::placed::LayerPlace;
use super::sampling::TRUNCATED_NORMAL_STD;
use super::schemes::{Distribution, Fan, Init, Weights, builtin};
use crate::nn::activation::Activation;

/// The variables a formula may use, in the order error messages list them.
pub const FORMULA_VARIABLES: [&str; 5] = ["fan_in", "fan_out", "gain", "layer", "depth"];

/// The longest formula accepted, in characters: far more than any rule of a start needs
/// (`sqrt(2 / (fan_in + fan_out))` is 28), and it bounds the depth of the expression tree.
pub const MAX_FORMULA_CHARS: usize = 1000;

/// The deepest nesting accepted: parentheses, function calls, unary minus signs and
/// right-hand sides of `^`, each one level.
pub const MAX_FORMULA_NESTING: usize = 64;

/// The functions a formula may call, with their number of arguments.
const FUNCTIONS: [(&str, usize); 8] = [
    ("sqrt", 1),
    ("exp", 1),
    ("ln", 1),
    ("log10", 1),
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("pow", 2),
];

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Number(f64),
    /// Index into [`FORMULA_VARIABLES`].
    Variable(usize),
    Pi,
    Negate(Box<Expr>),
    Binary(char, Box<Expr>, Box<Expr>),
    /// Index into [`FUNCTIONS`], arguments.
    Call(usize, Vec<Expr>),
}

impl Expr {
    fn eval(&self, vars: &[f64; 5]) -> f64 {
        match self {
            Expr::Number(v) => *v,
            Expr::Variable(i) => vars[*i],
            Expr::Pi => std::f64::consts::PI,
            Expr::Negate(e) => -e.eval(vars),
            Expr::Binary(op, a, b) => {
                let (a, b) = (a.eval(vars), b.eval(vars));
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    '/' => a / b,
                    _ => a.powf(b),
                }
            }
            Expr::Call(f, args) => {
                let x = args[0].eval(vars);
                let y = || args[1].eval(vars);
                match FUNCTIONS[*f].0 {
                    "sqrt" => x.sqrt(),
                    "exp" => x.exp(),
                    "ln" => x.ln(),
                    "log10" => x.log10(),
                    "abs" => x.abs(),
                    "min" => x.min(y()),
                    "max" => x.max(y()),
                    _ => x.powf(y()),
                }
            }
        }
    }
}

/// A token and the 1-based column (in characters) where it starts.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Symbol(char),
    End,
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, (String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: 1e-3, 2E5.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let word: String = chars[start..i].iter().collect();
            let value = word
                .parse::<f64>()
                .map_err(|_| (format!("`{word}` is not a number"), column))?;
            tokens.push((Token::Number(value), column));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((Token::Name(chars[start..i].iter().collect()), column));
        } else if "+-*/^(),".contains(c) {
            tokens.push((Token::Symbol(c), column));
            i += 1;
        } else {
            return Err((format!("unexpected character `{c}`"), column));
        }
    }
    tokens.push((Token::End, chars.len() + 1));
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    /// Levels of [`Parser::unary`] under way (every nesting passes through it).
    depth: usize,
}

type ParseResult = Result<Expr, (String, usize)>;

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn column(&self) -> usize {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> (Token, usize) {
        let t = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, symbol: char) -> bool {
        if *self.peek() == Token::Symbol(symbol) {
            self.next();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, wanted: &str) -> (String, usize) {
        let found = match self.peek() {
            Token::End => "the end of the formula".to_string(),
            Token::Number(v) => format!("`{v}`"),
            Token::Name(n) => format!("`{n}`"),
            Token::Symbol(c) => format!("`{c}`"),
        };
        (format!("expected {wanted}, found {found}"), self.column())
    }

    fn expr(&mut self) -> ParseResult {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Token::Symbol(c @ ('+' | '-')) => *c,
                _ => return Ok(left),
            };
            self.next();
            left = Expr::Binary(op, Box::new(left), Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> ParseResult {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Symbol(c @ ('*' | '/')) => *c,
                _ => return Ok(left),
            };
            self.next();
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> ParseResult {
        if self.depth >= MAX_FORMULA_NESTING {
            return Err((
                format!(
                    "nested more than {MAX_FORMULA_NESTING} levels deep (parentheses, function calls, minus signs and powers count)"
                ),
                self.column(),
            ));
        }
        self.depth += 1;
        let result = if self.eat('-') {
            self.unary().map(|e| Expr::Negate(Box::new(e)))
        } else {
            self.power()
        };
        self.depth -= 1;
        result
    }

    fn power(&mut self) -> ParseResult {
        let base = self.atom()?;
        if self.eat('^') {
            // Right-associative, and binds tighter than a unary minus on its left.
            return Ok(Expr::Binary('^', Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> ParseResult {
        let column = self.column();
        match self.peek().clone() {
            Token::Number(v) => {
                self.next();
                Ok(Expr::Number(v))
            }
            Token::Symbol('(') => {
                self.next();
                let inner = self.expr()?;
                if !self.eat(')') {
                    return Err(self.unexpected("`)`"));
                }
                Ok(inner)
            }
            Token::Name(name) => {
                self.next();
                if *self.peek() == Token::Symbol('(') {
                    return self.call(&name, column);
                }
                if let Some(i) = FORMULA_VARIABLES.iter().position(|v| *v == name) {
                    return Ok(Expr::Variable(i));
                }
                if name == "pi" {
                    return Ok(Expr::Pi);
                }
                let hint = if FUNCTIONS.iter().any(|(f, _)| *f == name) {
                    format!("`{name}` is a function: write {name}(...)")
                } else {
                    format!(
                        "unknown variable `{name}`; known: {}",
                        FORMULA_VARIABLES.join(", ")
                    )
                };
                Err((hint, column))
            }
            _ => Err(self.unexpected("a number, a variable, a function or `(`")),
        }
    }

    fn call(&mut self, name: &str, column: usize) -> ParseResult {
        let Some(f) = FUNCTIONS.iter().position(|(n, _)| *n == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
            return Err((
                format!("unknown function `{name}`; known: {}", known.join(", ")),
                column,
            ));
        };
        self.next(); // (
        let mut args = vec![self.expr()?];
        while self.eat(',') {
            args.push(self.expr()?);
        }
        if !self.eat(')') {
            return Err(self.unexpected("`,` or `)`"));
        }
        let wanted = FUNCTIONS[f].1;
        if args.len() != wanted {
            return Err((
                format!("`{name}` takes {wanted} argument(s), got {}", args.len()),
                column,
            ));
        }
        Ok(Expr::Call(f, args))
    }
}

/// A parsed formula and its text.
#[derive(Clone, Debug)]
pub struct Formula {
    text: String,
    expr: Expr,
}

impl Formula {
    /// Parses `text`; an error quotes the formula and points at the offending token's
    /// 1-based column.
    ///
    /// ```
    /// use initlab::nn::init::Formula;
    /// let f = Formula::parse("sqrt(2 / fan_in)").unwrap();
    /// assert_eq!(f.text(), "sqrt(2 / fan_in)");
    /// let e = Formula::parse("sqrt(2 / fan_inn)").unwrap_err();
    /// assert!(e.contains("unknown variable `fan_inn` at column 10"), "{e}");
    /// ```
    pub fn parse(text: &str) -> Result<Formula, String> {
        // A hint after `; ` goes after the column: "unknown variable `x` at column 3; known: ...".
        let located = |(message, column): (String, usize)| match message.split_once("; ") {
            Some((what, hint)) => format!("formula `{text}`: {what} at column {column}; {hint}"),
            None => format!("formula `{text}`: {message} at column {column}"),
        };
        let length = text.chars().count();
        if length > MAX_FORMULA_CHARS {
            let start: String = text.chars().take(30).collect();
            return Err(format!(
                "formula `{start}...` is {length} characters long; at most {MAX_FORMULA_CHARS} are accepted"
            ));
        }
        let tokens = tokenize(text).map_err(located)?;
        let mut parser = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let expr = parser.expr().map_err(located)?;
        if *parser.peek() != Token::End {
            return Err(located(parser.unexpected("an operator or the end")));
        }
        Ok(Formula {
            text: text.trim().to_string(),
            expr,
        })
    }

    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value for a layer.
    pub fn eval(&self, place: LayerPlace) -> f64 {
        let vars = [
            place.fan.fan_in as f64,
            place.fan.fan_out as f64,
            place.activation.gain(),
            place.layer as f64,
            place.depth as f64,
        ];
        self.expr.eval(&vars)
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a formula start's expression gives.
#[derive(Clone, Debug)]
pub enum Spread {
    /// The standard deviation of the weights.
    Std(Formula),
    /// Their variance.
    Variance(Formula),
}

/// A start written as a formula: `{ name = "formula", std = "..." }` or `variance = "..."`,
/// with a `distribution` (`normal` by default, `uniform` or `truncated-normal`).
#[derive(Clone, Debug)]
pub struct FormulaInit {
    /// The expression and what it gives.
    pub spread: Spread,
    /// The shape of the draws.
    pub distribution: Distribution,
}

impl FormulaInit {
    /// The weights' standard deviation for a layer; an error names the layer, its fans and
    /// the value when it is not a finite number > 0.
    pub fn std_at(&self, place: LayerPlace) -> Result<f64, String> {
        let (formula, key) = match &self.spread {
            Spread::Std(f) => (f, "std"),
            Spread::Variance(f) => (f, "variance"),
        };
        let value = formula.eval(place);
        if !(value.is_finite() && value > 0.0) {
            return Err(format!(
                "formula `{formula}` gives {key} = {value} for layer {} (fan_in = {}, fan_out = {}, gain = {}, depth = {}); the {key} must be a finite number > 0",
                place.layer,
                place.fan.fan_in,
                place.fan.fan_out,
                place.activation.gain(),
                place.depth
            ));
        }
        Ok(match self.spread {
            Spread::Std(_) => value,
            Spread::Variance(_) => value.sqrt(),
        })
    }

    /// The `(key, value)` parameters as a config records them.
    pub fn params(&self) -> Vec<(String, String)> {
        let (key, formula) = match &self.spread {
            Spread::Std(f) => ("std", f),
            Spread::Variance(f) => ("variance", f),
        };
        vec![
            (key.to_string(), formula.text().to_string()),
            (
                "distribution".to_string(),
                self.distribution.name().to_string(),
            ),
        ]
    }

    /// The rule for reports, e.g. `W ~ N(0, std²), std = sqrt(2 / fan_in)`.
    pub fn describe(&self) -> String {
        let shape = match self.distribution {
            Distribution::Normal => "N(0, std²)",
            Distribution::Uniform => "U(±√3·std)",
            Distribution::TruncatedNormal => "N(0, (std/0.8796)²) truncated at ±2 of its std",
        };
        match &self.spread {
            Spread::Std(f) => format!("W ~ {shape}, std = {f}"),
            Spread::Variance(f) => format!("W ~ {shape}, std² = {f}"),
        }
    }
}

/// Builds a formula start from its TOML or command-line parameters.
pub(super) fn parse_formula_init(params: &[(String, ParamValue)]) -> Result<Init, String> {
    let mut spread = None;
    let mut distribution = Distribution::Normal;
    for (key, value) in params {
        let text = value.to_string();
        match key.trim() {
            k @ ("std" | "variance") => {
                if spread.is_some() {
                    return Err(
                        "init `formula`: give either `std` or `variance`, not both".to_string()
                    );
                }
                let f = Formula::parse(&text)?;
                spread = Some(if k == "std" {
                    Spread::Std(f)
                } else {
                    Spread::Variance(f)
                });
            }
            "distribution" => {
                distribution = match text.trim().to_ascii_lowercase().as_str() {
                    "normal" => Distribution::Normal,
                    "uniform" => Distribution::Uniform,
                    "truncated-normal" | "truncated_normal" => Distribution::TruncatedNormal,
                    other => {
                        return Err(format!(
                            "init `formula`: `distribution` must be normal, uniform or truncated-normal, got `{other}`"
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "init `formula` has no parameter `{other}`; its parameters are: std (or variance), distribution"
                ));
            }
        }
    }
    let spread = spread.ok_or_else(|| {
        "init `formula` needs `std` or `variance`, e.g. { name = \"formula\", std = \"sqrt(2 / fan_in)\" }".to_string()
    })?;
    Ok(Init::Formula(FormulaInit {
        spread,
        distribution,
    }))
}

impl Init {
    /// The start as it draws layer `place`: a formula start becomes the plain element-wise
    /// scheme of its distribution with the formula's std for that layer (so it shares the
    /// common random numbers of its family); a start that depends on the place (`fixup`,
    /// `critical`, `rezero`, …) becomes what its row's rule gives there; every other start
    /// is itself. The error says why a layer has no valid start.
    pub fn at_layer(&self, place: LayerPlace) -> Result<Cow<'_, Init>, String> {
        let f = match self {
            Init::Formula(f) => f,
            Init::Scheme(s) => {
                return match s.row.weights {
                    Weights::Placed(rule) => rule(&s.values, &place).map(Cow::Owned).map_err(|e| {
                        format!("init `{}` at layer {}: {e}", s.row.name, place.layer)
                    }),
                    _ => Ok(Cow::Borrowed(self)),
                };
            }
            Init::Custom(_) => return Ok(Cow::Borrowed(self)),
        };
        let std = f.std_at(place)?;
        Ok(Cow::Owned(match f.distribution {
            Distribution::Normal => builtin("normal", &[("mean", 0.0), ("std", std)]),
            Distribution::Uniform => {
                let bound = 3f64.sqrt() * std;
                builtin("uniform", &[("low", -bound), ("high", bound)])
            }
            Distribution::TruncatedNormal => builtin(
                "truncated-normal",
                &[("mean", 0.0), ("std", std / TRUNCATED_NORMAL_STD)],
            ),
        }))
    }

    /// Checks the scheme for every layer of a plain network of the given widths (input
    /// first) whose hidden layers use `activation`: a formula start must give every layer a
    /// finite std > 0, a place-dependent start a value (`critical` needs an edge of chaos).
    /// Other schemes always pass.
    pub fn check_layers(&self, sizes: &[usize], activation: Activation) -> Result<(), String> {
        let depth = sizes.len().saturating_sub(1);
        for l in 0..depth {
            let fan = Fan {
                fan_in: sizes[l],
                fan_out: sizes[l + 1],
            };
            let after = if l + 1 < depth {
                activation
            } else {
                Activation::Identity
            };
            let place = LayerPlace::plain(l + 1, depth, fan, after);
            self.at_layer(place)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(fan_in: usize, fan_out: usize) -> LayerPlace {
        LayerPlace::plain(2, 5, Fan { fan_in, fan_out }, Activation::Tanh)
    }

    fn value(text: &str) -> f64 {
        Formula::parse(text).unwrap().eval(place(8, 2))
    }

    #[test]
    fn arithmetic_follows_the_usual_precedence() {
        assert_eq!(value("1 + 2 * 3"), 7.0);
        assert_eq!(value("(1 + 2) * 3"), 9.0);
        assert_eq!(value("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(value("-2 ^ 2"), -4.0);
        assert_eq!(value("8 / 4 / 2"), 1.0);
        assert_eq!(value("1 - 2 - 3"), -4.0);
        assert_eq!(value("1e-2 * 100"), 1.0);
        assert_eq!(value("max(fan_in, fan_out) + min(1, 2)"), 9.0);
        assert_eq!(value("pow(2, 10)"), 1024.0);
        assert_eq!(value("layer * depth"), 10.0);
        assert_eq!(value("gain"), 5.0 / 3.0);
        assert_eq!(value("sqrt(2 / fan_in)"), 0.5);
        assert!((value("ln(exp(3))") - 3.0).abs() < 1e-15);
        assert!((value("pi") - std::f64::consts::PI).abs() == 0.0);
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = Formula::parse("sqrt(2 / fan_inn)").unwrap_err();
        assert_eq!(
            e,
            "formula `sqrt(2 / fan_inn)`: unknown variable `fan_inn` at column 10; \
             known: fan_in, fan_out, gain, layer, depth"
        );
        for (text, wanted) in [
            (
                "2 / ",
                "expected a number, a variable, a function or `(`, found the end of the formula at column 5",
            ),
            (
                "sqrt(2",
                "expected `,` or `)`, found the end of the formula at column 7",
            ),
            ("2 $ 3", "unexpected character `$` at column 3"),
            ("foo(2)", "unknown function `foo` at column 1; known: sqrt"),
            ("min(2)", "`min` takes 2 argument(s), got 1 at column 1"),
            ("sqrt", "`sqrt` is a function"),
            (
                "2 3",
                "expected an operator or the end, found `3` at column 3",
            ),
        ] {
            let e = Formula::parse(text).unwrap_err();
            assert!(e.contains(wanted), "{text}: {e}");
        }
    }

    #[test]
    fn deep_or_long_formulas_are_refused_not_overflowing() {
        for text in [
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1", "-".repeat(100_000)),
            format!("{}1{}", "sqrt(".repeat(100_000), ")".repeat(100_000)),
            "2^".repeat(100_000) + "2",
            "1+".repeat(100_000) + "1",
        ] {
            let e = Formula::parse(&text).unwrap_err();
            assert!(e.contains("characters long; at most 1000"), "{e}");
            assert!(e.len() < 200, "{e}");
        }
        let deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
        let e = Formula::parse(&deep).unwrap_err();
        assert!(e.contains("nested more than 64 levels deep"), "{e}");
        assert!(e.contains("at column 65"), "{e}");
        let ok = format!("{}1{}", "(".repeat(60), ")".repeat(60));
        assert_eq!(Formula::parse(&ok).unwrap().eval(place(1, 1)), 1.0);
        assert_eq!(value(&("-".repeat(62) + "1")), 1.0);
        // The longest chain the length allows evaluates and drops without trouble.
        let chain = "1+".repeat(499) + "1";
        assert_eq!(Formula::parse(&chain).unwrap().eval(place(1, 1)), 500.0);
    }

    #[test]
    fn bad_values_name_the_layer() {
        let init =
            parse_formula_init(&[("std".into(), ParamValue::Text("layer - 2".into()))]).unwrap();
        let Init::Formula(f) = &init else { panic!() };
        let e = f.std_at(place(8, 2)).unwrap_err();
        assert!(e.contains("gives std = 0 for layer 2"), "{e}");
        let e = init
            .check_layers(&[4, 4, 4, 1], Activation::Relu)
            .unwrap_err();
        assert!(e.contains("std = -1 for layer 1"), "{e}");
    }

    #[test]
    fn parameters_are_checked() {
        let p = |k: &str, v: &str| (k.to_string(), ParamValue::Text(v.to_string()));
        assert!(
            parse_formula_init(&[])
                .unwrap_err()
                .contains("needs `std` or `variance`")
        );
        assert!(
            parse_formula_init(&[p("std", "1"), p("variance", "1")])
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            parse_formula_init(&[p("std", "1"), p("distribution", "cauchy")])
                .unwrap_err()
                .contains("normal, uniform or truncated-normal")
        );
        assert!(
            parse_formula_init(&[p("mean", "1")])
                .unwrap_err()
                .contains("no parameter `mean`")
        );
    }
}
