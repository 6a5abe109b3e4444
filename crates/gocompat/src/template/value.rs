//! Values of the template engine and their Go-style printing.

/// A field looked up on a value that has no fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("can't evaluate field {field} in type {type_name}")]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// Go's name of the value's type.
    pub type_name: &'static str,
}

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Go's nil: prints `<no value>`.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Value>),
    /// A map, sorted by key; the flag says a missing key yields `""`
    /// (label maps) rather than nil (JSON objects).
    Map(Vec<(String, Value)>, bool),
    /// A point in time, ns since the epoch, UTC.
    Time(i64),
}

impl Value {
    /// Go's truth: false, 0, "", nil and empty collections are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m, _) => !m.is_empty(),
            Value::Time(_) => true,
        }
    }

    /// Go's `%v`.
    pub fn display(&self) -> String {
        match self {
            Value::Nil => "<no value>".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => crate::strconv::format_float(*f, 'g', -1),
            Value::Str(s) => s.clone(),
            Value::List(items) => {
                let inner: Vec<String> = items.iter().map(Value::display_inner).collect();
                format!("[{}]", inner.join(" "))
            }
            Value::Map(pairs, _) => {
                let inner: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", v.display_inner()))
                    .collect();
                format!("map[{}]", inner.join(" "))
            }
            Value::Time(ns) => crate::time::format(*ns, crate::time::TIME_STRING),
        }
    }

    fn display_inner(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            other => other.display(),
        }
    }

    /// The value as a string argument.
    pub fn as_string(&self) -> String {
        match self {
            Value::Nil => String::new(),
            other => other.display(),
        }
    }

    /// The value as an integer (sprig's `toInt64`: strings parse, floats
    /// truncate, anything else is 0).
    pub fn as_int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            Value::Float(f) => *f as i64,
            Value::Bool(b) => i64::from(*b),
            Value::Str(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// The value as a float (sprig's `toFloat64`).
    pub fn as_float(&self) -> f64 {
        match self {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Str(s) => s.trim().parse().unwrap_or(0.0),
            _ => 0.0,
        }
    }

    /// Looks up a field of a map (nil has every field, as nil).
    pub fn field(&self, name: &str) -> Result<Value, FieldError> {
        match self {
            Value::Map(pairs, zero_missing) => Ok(pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or(if *zero_missing {
                    Value::Str(String::new())
                } else {
                    Value::Nil
                })),
            Value::Nil => Ok(Value::Nil),
            other => Err(FieldError {
                field: name.to_owned(),
                type_name: other.type_name(),
            }),
        }
    }

    /// Go's name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(..) => "map[string]interface {}",
            Value::Time(_) => "time.Time",
        }
    }
}
