//! What the operator is shown on stdout, once: never the log, which is
//! collected and kept.

use secrecy::{ExposeSecret, SecretString};

pub(crate) fn print_generated_password(headline: &str, password: &SecretString) {
    println!(
        "\n{headline} with the generated password:\n\n    {}\n\nIt is shown only this once. Lost it? Run `openvbo admin reset-password`.\n",
        password.expose_secret()
    );
}
