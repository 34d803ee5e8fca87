//! `openvbo admin …`: maintenance of a data dir.

use crate::cli::ResetPasswordArgs;

pub(crate) async fn reset_password(args: ResetPasswordArgs) -> anyhow::Result<()> {
    let (config, log) = crate::settings::resolve(&args.serve)?;
    crate::settings::init_logging(&log);
    let user = args.user.unwrap_or_else(|| config.admin_user.clone());
    let password =
        openvbo_server::reset_admin_password(&config, &user, config.admin_password.clone()).await?;
    let generated = config.admin_password.is_none();
    if generated {
        crate::console::print_generated_password(
            &format!("The administrator '{user}' now has a new password"),
            &password,
        );
    } else {
        println!("The password of '{user}' was set from OPENVBO_ADMIN_PASSWORD.");
    }
    println!("Every session of '{user}' was signed out.");
    Ok(())
}
