//! The `meshsim` command: parse flags, run, exit with the right code.

use std::process::ExitCode;

fn main() -> ExitCode {
    meshsim::cli::main()
}
