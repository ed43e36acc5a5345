//! `firedrill completions` and `firedrill man`: the scripts parse in the
//! real shells (bash, zsh, fish: `.ci/run` installs zsh and fish), the man
//! page renders without a warning, and both name every command.

mod common;

use std::path::Path;
use std::process::Command;

use common::firedrill;

/// Every command a user can type.
const COMMANDS: &[&str] = &[
    "run",
    "check",
    "plan",
    "runbook",
    "report",
    "history",
    "schema",
    "completions",
    "man",
    "init",
];

/// `firedrill ARGS…`: its standard output (it must succeed).
fn stdout_of(args: &[&str]) -> String {
    let output = firedrill().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The shell's path; a missing shell fails the test, saying how to get it.
fn shell(name: &str) -> String {
    let found = ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists());
    match found {
        Some(path) => path.to_string_lossy().into_owned(),
        None => panic!(
            "{name} is not installed: the completion tests need it (`apt-get install -y {name}`; .ci/run installs it)"
        ),
    }
}

/// Writes the completion script for `name` and has `check` parse it.
fn parses(name: &str, check: &[&str]) -> String {
    let script = stdout_of(&["completions", name]);
    assert!(script.len() > 500, "{name}: {script}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("firedrill.{name}"));
    std::fs::write(&file, &script).unwrap();
    let output = Command::new(shell(check[0]))
        .args(&check[1..])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{} does not parse the {name} script: {}",
        check[0],
        String::from_utf8_lossy(&output.stderr)
    );
    script
}

#[test]
fn the_bash_script_parses_and_completes_every_command() {
    let script = parses("bash", &["bash", "-n"]);
    for command in COMMANDS {
        assert!(script.contains(command), "bash completes no `{command}`");
    }
    for template in ["http", "docker", "swarm", "new-engineer"] {
        assert!(
            script.contains(template),
            "bash completes no template `{template}`"
        );
    }
}

#[test]
fn the_bash_script_really_completes_in_bash() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("firedrill.bash");
    std::fs::write(&file, script).unwrap();
    // What bash does on `firedrill sch<TAB>` and `firedrill init --template <TAB>`.
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(firedrill sch); COMP_CWORD=1; COMP_LINE='firedrill sch'; COMP_POINT=13\n\
         _firedrill firedrill sch firedrill; echo \"${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(firedrill init --template ''); COMP_CWORD=3\n\
         _firedrill firedrill '' --template; echo \"${{COMPREPLY[*]}}\"\n",
        file.display()
    );
    let output = Command::new(shell("bash"))
        .args(["-c", &probe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("schema"), "{text}");
    assert_eq!(
        lines.next(),
        Some("http docker swarm new-engineer"),
        "{text}"
    );
}

#[test]
fn the_zsh_script_parses() {
    parses("zsh", &["zsh", "-n"]);
}

#[test]
fn the_fish_script_parses() {
    parses("fish", &["fish", "--no-execute"]);
}

#[test]
fn the_elvish_and_powershell_scripts_name_every_command() {
    for name in ["elvish", "powershell"] {
        let script = stdout_of(&["completions", name]);
        for command in COMMANDS {
            assert!(script.contains(command), "{name} completes no `{command}`");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = firedrill().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bash") && stderr.contains("powershell"),
        "{stderr}"
    );
}

#[test]
fn the_man_page_renders_without_warnings_and_holds_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("firedrill.1");
    std::fs::write(&file, &page).unwrap();
    // groff, warnings on (-ww), as `man` would render it.
    let output = Command::new(shell("groff"))
        .args(["-man", "-Tutf8", "-ww", "-P-cbu"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "groff: {stderr}"
    );
    // groff justifies lines and renders hyphens as Unicode; compare words.
    let text = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['\u{2010}', '\u{2212}'], "-");
    for command in COMMANDS {
        let heading = format!("FIREDRILL {}", command.to_uppercase());
        assert!(text.contains(&heading), "no section {heading}:\n{text}");
    }
    for words in ["--template", "--record", "new-engineer", "Exit codes"] {
        assert!(text.contains(words), "the man page lacks {words}:\n{text}");
    }
}

#[test]
fn man_writes_the_file_given_with_o() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("firedrill.1");
    firedrill().args(["man", "-o"]).arg(&out).assert().success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout_of(&["man"]));
}

#[test]
fn help_and_readme_name_the_new_commands() {
    let help = stdout_of(&["--help"]);
    for command in ["schema", "completions", "man", "init"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "`firedrill --help` does not list {command}:\n{help}"
        );
    }
    assert!(stdout_of(&["schema", "--help"]).contains("--record"));
    assert!(stdout_of(&["completions", "--help"]).contains("powershell"));
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block_start = readme
        .find("## The command line")
        .expect("a command-line section");
    let block =
        &readme[block_start..readme[block_start..].find("| exit code").unwrap() + block_start];
    for line in [
        "firedrill schema [--record] [-o FILE]",
        "firedrill completions bash|zsh|fish|elvish|powershell",
        "firedrill man [-o FILE]",
        "firedrill init [NAME] [--template http|docker|swarm|new-engineer]",
    ] {
        assert!(
            block.contains(line),
            "the README's command line lacks `{line}`"
        );
    }
    for (heading, placeholder) in [
        ("### Editor schema", "<!-- schema:"),
        ("### Shell completions and man page", "<!-- completions:"),
        ("### Starting a drill", "<!-- init:"),
    ] {
        let at = readme
            .find(heading)
            .unwrap_or_else(|| panic!("no {heading}"));
        let section = &readme[at..];
        let end = section[heading.len()..]
            .find("\n### ")
            .map_or(section.len(), |e| e + heading.len());
        let section = &section[..end];
        assert!(
            !section.contains(placeholder),
            "{heading} is still a placeholder"
        );
        assert!(section.len() > 400, "{heading} says too little:\n{section}");
    }
}
