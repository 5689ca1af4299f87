//! Checks lupi-sys against include/lupi.h: every `#define LUPI_*` number
//! (value and sign), every `LUPI_API` function (name, parameter names and
//! types, return type), the public structs field by field and the callback
//! typedefs, in both directions. The header is read from `LUPI_HEADER`
//! when set, else from the source tree this crate lives in.
use std::collections::BTreeMap;
use std::path::PathBuf;

fn header_text() -> String {
    let path = match std::env::var_os("LUPI_HEADER") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../include/lupi.h"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {} ({}); set LUPI_HEADER to lupi.h", path.display(), e)
    })
}

/// The header with continuation lines joined and comments removed.
fn clean(src: &str) -> String {
    let joined = src.replace("\\\n", " ");
    let mut out = String::with_capacity(joined.len());
    let mut rest = joined.as_str();
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        out.push(' ');
        let end = rest[i + 2..].find("*/").expect("unterminated comment");
        rest = &rest[i + 2 + end + 2..];
    }
    out.push_str(rest);
    out
}

// ---- #define numbers --------------------------------------------------------

struct Expr<'a> {
    toks: Vec<String>,
    pos: usize,
    known: &'a BTreeMap<String, i64>,
}

impl<'a> Expr<'a> {
    fn new(s: &str, known: &'a BTreeMap<String, i64>) -> Option<Self> {
        let mut toks = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i] as char;
            if c.is_whitespace() {
                i += 1;
            } else if c.is_ascii_alphanumeric() || c == '_' {
                let st = i;
                while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                toks.push(s[st..i].to_string());
            } else if "()+-*/".contains(c) {
                toks.push(c.to_string());
                i += 1;
            } else {
                return None;
            }
        }
        Some(Expr { toks, pos: 0, known })
    }
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(|s| s.as_str())
    }
    fn eval(mut self) -> Option<i64> {
        let v = self.sum()?;
        if self.pos == self.toks.len() {
            Some(v)
        } else {
            None
        }
    }
    fn sum(&mut self) -> Option<i64> {
        let mut v = self.product()?;
        while let Some(op) = self.peek().map(str::to_string) {
            if op != "+" && op != "-" {
                break;
            }
            self.pos += 1;
            let r = self.product()?;
            v = if op == "+" { v + r } else { v - r };
        }
        Some(v)
    }
    fn product(&mut self) -> Option<i64> {
        let mut v = self.unary()?;
        while let Some(op) = self.peek().map(str::to_string) {
            if op != "*" && op != "/" {
                break;
            }
            self.pos += 1;
            let r = self.unary()?;
            v = if op == "*" { v * r } else { v / r };
        }
        Some(v)
    }
    fn unary(&mut self) -> Option<i64> {
        let t = self.peek()?.to_string();
        self.pos += 1;
        match t.as_str() {
            "-" => Some(-self.unary()?),
            "+" => self.unary(),
            "(" => {
                let v = self.sum()?;
                if self.peek()? != ")" {
                    return None;
                }
                self.pos += 1;
                Some(v)
            }
            _ => t.parse().ok().or_else(|| self.known.get(&t).copied()),
        }
    }
}

fn header_defines(text: &str) -> BTreeMap<String, i64> {
    // The only defines that are not numbers: the include guard and the
    // export attribute. Anything else that does not evaluate fails the
    // test, so no new constant can slip past.
    const NOT_NUMBERS: &[&str] = &["LUPI_H", "LUPI_API"];
    let mut known = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        let rest = match line.strip_prefix("#define") {
            Some(r) => r.trim_start(),
            None => continue,
        };
        let (name, body) = rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len()));
        if !name.starts_with("LUPI_") || NOT_NUMBERS.contains(&name) {
            continue;
        }
        let value = Expr::new(body, &known)
            .and_then(Expr::eval)
            .unwrap_or_else(|| panic!("#define {} {}: not a number this test can read", name, body.trim()));
        known.insert(name.to_string(), value);
    }
    known
}

#[test]
fn every_constant_matches() {
    let text = clean(&header_text());
    let header = header_defines(&text);
    let ours: BTreeMap<String, i64> = lupi_sys::CONSTANTS
        .iter()
        .map(|&(n, v)| (n.to_string(), v as i64))
        .collect();
    assert_eq!(ours.len(), lupi_sys::CONSTANTS.len(), "a constant is listed twice");
    let mut problems = Vec::new();
    for (name, value) in &header {
        match ours.get(name) {
            None => problems.push(format!("{} = {} is not in lupi-sys", name, value)),
            Some(v) if v != value => problems.push(format!("{}: header {}, lupi-sys {}", name, value, v)),
            _ => {}
        }
    }
    for name in ours.keys() {
        if !header.contains_key(name) {
            problems.push(format!("{} is in lupi-sys, not in lupi.h", name));
        }
    }
    assert!(problems.is_empty(), "constants differ:\n{}", problems.join("\n"));
    assert!(header.len() > 100, "only {} constants parsed", header.len());
    assert!(lupi_sys::LUPI_EINVAL < 0 && lupi_sys::LUPI_ECANCELLED == -14);
}

// ---- types ----------------------------------------------------------------

/// A C declaration's type ("const lupi_dataset **") as Rust text
/// ("*mut *const lupi_dataset"), without spaces.
fn rust_type(c: &str) -> String {
    let stars = c.matches('*').count();
    let words: Vec<&str> = c.split(|ch: char| ch.is_whitespace() || ch == '*').filter(|w| !w.is_empty()).collect();
    let is_const = words.contains(&"const");
    let base: Vec<&str> = words.into_iter().filter(|w| *w != "const").collect();
    assert_eq!(base.len(), 1, "type {:?} not understood", c);
    let base = match base[0] {
        "int" => "c_int",
        "unsigned" => "c_uint",
        "char" => "c_char",
        "void" => "c_void",
        "size_t" => "usize",
        "int64_t" => "i64",
        "uint64_t" => "u64",
        "uint32_t" => "u32",
        "int32_t" => "i32",
        "uint8_t" => "u8",
        "float" => "f32",
        "double" => "f64",
        other if other.starts_with("lupi_") => other,
        other => panic!("C type {:?} in {:?} has no mapping", other, c),
    };
    let mut t = base.to_string();
    for i in 0..stars {
        let q = if i == 0 && is_const { "*const" } else { "*mut" };
        t = format!("{}{}", q, t);
    }
    t
}

/// Text without white space, and without the `r#` of raw identifiers (a
/// parameter the header names `fn`, `pub` or `priv` is `r#fn` in Rust).
fn squash(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    s.replace("r#", "")
}

/// "const float *x" -> ("x", "*constf32")
fn declarator(p: &str) -> (String, String) {
    let p = p.trim();
    let cut = p.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let name = &p[cut..];
    let name = if name == "type" { "type_" } else { name };
    (name.to_string(), rust_type(&p[..cut]))
}

fn params(args: &str) -> String {
    let args = args.trim();
    if args == "void" {
        return "()".into();
    }
    let ps: Vec<String> = args
        .split(',')
        .map(|p| {
            let (n, t) = declarator(p);
            format!("{}:{}", n, t)
        })
        .collect();
    format!("({})", ps.join(","))
}

fn no_preprocessor(text: &str) -> String {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")
}

// ---- functions ----------------------------------------------------------------

fn header_functions(text: &str) -> BTreeMap<String, String> {
    let code = no_preprocessor(text);
    let mut out = BTreeMap::new();
    for decl in code.split("LUPI_API").skip(1) {
        let decl = &decl[..decl.find(';').expect("LUPI_API declaration without ';'")];
        let open = decl.find('(').expect("not a function");
        let close = decl.rfind(')').expect("not a function");
        let (ret_name, args) = (&decl[..open], &decl[open + 1..close]);
        let (name, ret) = declarator(ret_name);
        let sig = if ret == "c_void" {
            params(args)
        } else {
            format!("{}->{}", params(args), ret)
        };
        assert!(out.insert(name.clone(), sig).is_none(), "{} declared twice", name);
    }
    out
}

#[test]
fn every_function_matches() {
    let header = header_functions(&clean(&header_text()));
    let ours: BTreeMap<String, String> = lupi_sys::FUNCTIONS
        .iter()
        .map(|&(n, s)| (n.to_string(), squash(s)))
        .collect();
    assert_eq!(ours.len(), lupi_sys::FUNCTIONS.len(), "a function is listed twice");
    let mut problems = Vec::new();
    for (name, sig) in &header {
        match ours.get(name) {
            None => problems.push(format!("{}{} is not in lupi-sys", name, sig)),
            Some(s) if s != sig => problems.push(format!("{}: header {}, lupi-sys {}", name, sig, s)),
            _ => {}
        }
    }
    for name in ours.keys() {
        if !header.contains_key(name) {
            problems.push(format!("{} is in lupi-sys, not in lupi.h", name));
        }
    }
    assert!(problems.is_empty(), "functions differ:\n{}", problems.join("\n"));
    assert!(header.len() >= 112, "only {} functions parsed", header.len());
}

#[test]
fn every_function_links() {
    // Taking each address makes the linker resolve every symbol.
    for (name, addr) in lupi_sys::function_addresses().iter() {
        assert_ne!(*addr, 0, "{} has no address", name);
    }
}

// ---- structs and callbacks ------------------------------------------------------

#[test]
fn structs_match() {
    let code = no_preprocessor(&clean(&header_text()));
    let mut found = 0;
    for &(name, fields) in lupi_sys::STRUCTS {
        let start = format!("typedef struct {} {{", name);
        let at = code.find(&start).unwrap_or_else(|| panic!("struct {} not in lupi.h", name));
        let body = &code[at + start.len()..];
        let body = &body[..body.find('}').unwrap()];
        let mut header_fields = Vec::new();
        for decl in body.split(';').map(str::trim).filter(|d| !d.is_empty()) {
            // "int64_t int_min, int_max" declares several fields of one type
            let mut parts = decl.split(',');
            let (first, ty) = declarator(parts.next().unwrap());
            header_fields.push((first, ty.clone()));
            for more in parts {
                header_fields.push((more.trim().to_string(), ty.clone()));
            }
        }
        let ours: Vec<(String, String)> = fields.iter().map(|&(f, t)| (f.to_string(), squash(t))).collect();
        assert_eq!(ours, header_fields, "struct {} differs from lupi.h", name);
        found += 1;
    }
    let defined = code
        .split("typedef struct ")
        .skip(1)
        .filter(|rest| rest.split_whitespace().nth(1) == Some("{"))
        .count();
    assert_eq!(defined, found, "a public struct of lupi.h is missing from lupi-sys");
}

#[test]
fn callbacks_match() {
    let code = no_preprocessor(&clean(&header_text()));
    let mut header = BTreeMap::new();
    for piece in code.split("typedef").skip(1) {
        let decl = &piece[..piece.find(';').unwrap()];
        if let Some(star) = decl.find("(*") {
            let name_end = decl[star..].find(')').unwrap() + star;
            let name = decl[star + 2..name_end].trim().to_string();
            let ret = rust_type(&decl[..star]);
            let args = &decl[name_end + 1..];
            let args = &args[args.find('(').unwrap() + 1..args.rfind(')').unwrap()];
            header.insert(name, format!("{}->{}", params(args), ret));
        }
    }
    let ours: BTreeMap<String, String> = lupi_sys::CALLBACKS.iter().map(|&(n, s)| (n.to_string(), squash(s))).collect();
    assert_eq!(ours, header);
}

// ---- the library agrees at run time -----------------------------------------------

#[test]
fn library_matches_header() {
    unsafe {
        assert_eq!(lupi_sys::lupi_version_number(), lupi_sys::LUPI_VERSION_NUMBER as u32);
        let opt = lupi_sys::lupi_option_by_key(lupi_sys::LUPI_MODEL_OPT_EPOCHS);
        assert!(!opt.is_null());
        // the library's struct is at least as large as ours
        assert!((*opt).size >= std::mem::size_of::<lupi_sys::lupi_option>());
        assert_eq!((*opt).key, lupi_sys::LUPI_MODEL_OPT_EPOCHS);
        assert_eq!((*opt).handle, lupi_sys::LUPI_HANDLE_MODEL);
        assert_eq!((*opt).type_, lupi_sys::LUPI_TYPE_INT);
        assert_eq!(std::ffi::CStr::from_ptr((*opt).name).to_str().unwrap(), "EPOCHS");
        // every error code has the name of its constant
        for &(name, value) in lupi_sys::CONSTANTS {
            if name.starts_with("LUPI_E") {
                let got = lupi_sys::lupi_errname(value);
                assert!(!got.is_null(), "{} has no name", name);
                assert_eq!(std::ffi::CStr::from_ptr(got).to_str().unwrap(), name);
            }
        }
    }
}
