//! `firedrill man`: the man page (roff), from the clap definitions: the
//! command as `clap_mangen` renders it, then a section per subcommand with
//! its usage and options, so `man firedrill` holds the whole command line.

use clap::CommandFactory;

use super::{Cli, ManArgs, emit};

pub(super) fn man(args: &ManArgs) -> i32 {
    match render() {
        Ok(page) => emit(args.output.as_deref(), &page),
        Err(err) => {
            eprintln!("error: cannot render the man page: {err}");
            super::exit::FAILED
        }
    }
}

/// firedrill(1).
fn render() -> std::io::Result<Vec<u8>> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        page.extend_from_slice(subcommand_section(sub).as_bytes());
    }
    if let Some(exit_codes) = command.get_after_help() {
        let text = format!(".SH \"EXIT STATUS\"\n{}\n", escape(&exit_codes.to_string()));
        page.extend_from_slice(text.as_bytes());
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// `.SH FIREDRILL RUN`: what it does, its usage, and each argument.
fn subcommand_section(sub: &clap::Command) -> String {
    let mut out = format!(".SH \"FIREDRILL {}\"\n", sub.get_name().to_uppercase());
    if let Some(about) = sub.get_about() {
        out.push_str(&format!("{}\n", escape(&about.to_string())));
    }
    let usage = sub.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ");
    out.push_str(&format!(".PP\n\\fB{}\\fR\n", escape(usage)));
    for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
        let name = match (arg.get_short(), arg.get_long()) {
            (_, Some(long)) if arg.get_short().is_some() => {
                format!(
                    "\\fB\\-{}\\fR, \\fB\\-\\-{}\\fR",
                    arg.get_short().unwrap_or('-'),
                    escape(long)
                )
            }
            (_, Some(long)) => format!("\\fB\\-\\-{}\\fR", escape(long)),
            _ => format!("\\fI{}\\fR", escape(arg.get_id().as_str()).to_uppercase()),
        };
        let value = if arg.get_long().is_some() && arg.get_action().takes_values() {
            let names = arg
                .get_value_names()
                .map(|n| n.join(" "))
                .unwrap_or_default();
            format!(" \\fI{}\\fR", escape(&names))
        } else {
            String::new()
        };
        let mut help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            help.push_str(&format!(" [possible values: {}]", values.join(", ")));
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && arg.get_action().takes_values() {
            help.push_str(&format!(" [default: {}]", defaults.join(", ")));
        }
        out.push_str(&format!(".TP\n{name}{value}\n{}\n", escape(&help)));
    }
    out
}

/// Text as roff reads it literally: backslashes, dashes, and a line that
/// would start with a control character.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    text.lines()
        .map(|line| {
            if line.starts_with('.') || line.starts_with('\'') {
                format!("\\&{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
