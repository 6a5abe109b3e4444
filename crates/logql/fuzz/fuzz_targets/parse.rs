//! Fuzz target: any input parses or fails cleanly, and what parses prints
//! back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ast) = logql::parse(text) {
            let printed = ast.to_string();
            assert_eq!(logql::parse(&printed).ok(), Some(ast), "{printed}");
        }
    }
});
