//! The build-script front end, for `tests/front_ends.rs` (the crate itself uses the macro).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tacos_codegen::configure().compile(&["greeter/v1/greeter.proto"], &["proto"])?;
    Ok(())
}
