//! Property tests of the classifier: whatever a window reports (titles are
//! written by web pages, class names by any program) and whatever rules the
//! employee writes, classifying never panics, and a rule that does not compile
//! is an error, not a crash.

use dwell_core::rules::{Classifier, UserRule};
use dwell_core::{Activity, WindowInfo};
use proptest::prelude::*;

fn window() -> impl Strategy<Value = WindowInfo> {
    (
        "\\PC{0,40}",
        "\\PC{0,40}",
        prop_oneof![
            "\\PC{0,400}",
            "\\PC{0,40} - Mozilla Firefox",
            ".{0,60} — Chromium"
        ],
        proptest::option::of("\\PC{0,20}"),
        any::<bool>(),
    )
        .prop_map(|(class, instance, title, process, fullscreen)| WindowInfo {
            class,
            instance,
            title,
            process,
            fullscreen,
        })
}

fn rule() -> impl Strategy<Value = UserRule> {
    (
        "\\PC{0,20}",
        proptest::option::of("\\PC{0,30}"),
        proptest::option::of("\\PC{0,20}"),
        proptest::collection::vec("[a-z0-9.\\-]{0,20}|\\PC{0,10}", 0..3),
    )
        .prop_map(|(site, title, app, host)| UserRule {
            site,
            title,
            app,
            host,
        })
}

/// The built-in rules, compiled once (compiling them is the slow part).
fn builtin() -> &'static Classifier {
    static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    C.get_or_init(|| Classifier::new(&[], &[]).expect("built-in rules compile"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_builtin_classifier_never_panics(w in window(), host in "\\PC{0,80}") {
        let _ = builtin().classify(&w);
        let _ = builtin().classify_host(&host);
    }
}

// Each case below compiles a classifier of its own: fewer cases.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_user_rules_either_compile_or_are_refused(
        rules in proptest::collection::vec(rule(), 0..4),
        disabled in proptest::collection::vec("\\PC{0,15}", 0..3),
        w in window(),
        host in "\\PC{0,80}",
    ) {
        if let Ok(c) = Classifier::new(&rules, &disabled) {
            let _ = c.classify(&w);
            let _ = c.classify_host(&host);
        }
    }

    #[test]
    fn a_plain_title_rule_matches_its_own_text(word in "[a-z]{3,12}") {
        let rule = UserRule {
            site: "mine".into(),
            title: Some(word.clone()),
            ..UserRule::default()
        };
        let c = Classifier::new(&[rule], &[]).expect("a plain word compiles");
        let w = WindowInfo {
            class: "firefox".into(),
            instance: "Navigator".into(),
            title: format!("{word} — Mozilla Firefox"),
            process: None,
            fullscreen: false,
        };
        prop_assert_eq!(c.classify(&w), Activity::Social("mine".into()));
    }
}
