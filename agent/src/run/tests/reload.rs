//! Looking again while the loop runs: the config file reloaded (a refused
//! one, one read empty mid-save or emptied for good, a save that loses no
//! tracking) and the settings in the store read again through a transient
//! error (the pause, the consent).

use super::logs::{capture_logs, logged};
use super::*;

/// A refused config's source line (and the value quoted in its message)
/// may name a site: above debug the log names only the file, line and key.
#[tokio::test(start_paused = true)]
async fn a_refused_config_names_no_site_in_the_log_above_debug() {
    for (level, shows_site) in [(tracing::Level::INFO, false), (tracing::Level::DEBUG, true)] {
        let (buf, guard) = capture_logs();
        let (dir, _) = Replay::live("[schedule]\nrecord = \"always\"\n")
            .run(|desk| async move {
                std::fs::write(
                    desk.config_path(),
                    "[limits]\ndaily = \"secret-site.example\"\n",
                )
                .unwrap();
                desk.look_again().await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            })
            .await;
        drop(guard);
        let log = logged(&buf, level);
        assert!(log.contains("refused"), "{log}");
        assert!(
            log.contains("config.toml") && log.contains("line=2"),
            "{log}"
        );
        assert!(log.contains("limits.daily"), "{log}");
        assert_eq!(log.contains("secret-site"), shows_site, "{level}: {log}");
        // `status` still shows the whole message.
        let stored = Store::open(dir.path())
            .unwrap()
            .meta_get(CONFIG_ERROR_KEY)
            .unwrap()
            .unwrap_or_default();
        assert!(stored.contains("secret-site.example"), "{stored}");
    }
}

/// Facebook does not count under this config; it does under the defaults.
const NO_FACEBOOK: &str =
    "[schedule]\nrecord = \"always\"\n[sites]\ndisable = [\"facebook.com\"]\n";

/// A save that rewrites the file in place empties it for a moment: a
/// look at that moment must not put the built-in defaults in force.
#[tokio::test(start_paused = true)]
async fn a_config_read_empty_in_the_middle_of_an_in_place_save_is_not_taken() {
    let (_d, spans) = Replay::live(NO_FACEBOOK)
        .run(|desk| async move {
            desk.connect(browser("Facebook")).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            // The burst: truncated (and looked at), then written again.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(desk.config_path());
            drop(file.unwrap());
            desk.look_again().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            std::fs::write(desk.config_path(), NO_FACEBOOK).unwrap();
            tokio::time::sleep(Duration::from_secs(20)).await;
        })
        .await;
    assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
}

/// A file that stays empty is taken (the built-in defaults), once settled.
#[tokio::test(start_paused = true)]
async fn a_config_emptied_for_good_is_taken_once_settled() {
    let (_d, spans) = Replay::live(NO_FACEBOOK)
        .run(|desk| async move {
            desk.connect(browser("Facebook")).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            std::fs::write(desk.config_path(), "").unwrap();
            desk.look_again().await;
            tokio::time::sleep(Duration::from_secs(20)).await;
        })
        .await;
    let counted = secs(&spans, Some("facebook.com"));
    assert!((19.0..=20.0).contains(&counted), "{counted}: {spans:?}");
}

/// Saving the settings (a change that does not touch the site in focus)
/// loses no time: the open span closes and opens again at the same moment,
/// through the browser extension as through a window's title.
#[tokio::test(start_paused = true)]
async fn a_config_reload_loses_no_tracking() {
    let before = recorded_always("1h");
    for through_extension in [false, true] {
        let after = format!("{before}[limits]\ndaily = \"40m\"\n");
        let (_d, spans) = Replay::live(&before)
            .run(|desk| async move {
                if through_extension {
                    desk.connect(browser("New Tab")).await;
                    desk.send(tab(Some("www.facebook.com"), false, false)).await;
                } else {
                    desk.connect(browser("Facebook")).await;
                }
                tokio::time::sleep(Duration::from_millis(10_400)).await;
                std::fs::write(desk.config_path(), after).unwrap();
                desk.look_again().await;
                // A second look (an editor's save fires several events).
                tokio::time::sleep(Duration::from_millis(150)).await;
                desk.look_again().await;
                tokio::time::sleep(Duration::from_millis(19_450)).await;
            })
            .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 30.0, "{spans:?}");
        assert_eq!(spans.len(), 2, "closed and opened again: {spans:?}");
        assert_eq!(spans[0].end, spans[1].start, "{spans:?}");
    }
}

/// After the script's own set-up (written to the store): looks again,
/// Facebook in focus; 5 s later the store's settings unreadable for a
/// moment (as a transient error would make them) while the loop looks again
/// twice (it reads them all again), then readable again, and `after` more.
async fn facebook_through_unreadable_settings(desk: &Desk, after: Duration) {
    desk.look_again().await;
    desk.connect(browser("Facebook")).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let other = desk.store();
    other
        .raw_for_tests()
        .execute_batch("ALTER TABLE meta RENAME TO meta_gone")
        .unwrap();
    desk.look_again().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    desk.look_again().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    other
        .raw_for_tests()
        .execute_batch("ALTER TABLE meta_gone RENAME TO meta")
        .unwrap();
    tokio::time::sleep(after).await;
}

/// A transient error reading the pause leaves the pause in force, and is
/// logged once.
#[tokio::test(start_paused = true)]
async fn a_transient_error_reading_the_pause_keeps_it() {
    let (buf, guard) = capture_logs();
    let (_d, spans) = Replay::live(&recorded_always("1h"))
        .run(|desk| async move {
            control::set_pause(&desk.store(), control::Pause::Indefinite).unwrap();
            facebook_through_unreadable_settings(&desk, Duration::from_secs(60)).await;
        })
        .await;
    drop(guard);
    assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
    let log = logged(&buf, tracing::Level::INFO);
    assert_eq!(
        log.matches("cannot read the pause state").count(),
        1,
        "{log}"
    );
}

/// A transient error reading the consent does not end the calibration
/// period: no reminder.
#[tokio::test(start_paused = true)]
async fn a_transient_error_reading_the_consent_keeps_calibrating() {
    let config = format!(
        "{}calibrate = \"7d\"\n[limits]\ndaily = \"20s\"\n[reminders]\nmin_gap = \"1s\"\n",
        recorded_always("1h")
    );
    let (dir, _spans) = Replay::live(&config)
        .run(|desk| async move {
            desk.store()
                .set_consent(start() - chrono::Duration::days(1))
                .unwrap();
            facebook_through_unreadable_settings(&desk, Duration::from_secs(120)).await;
        })
        .await;
    let reminders = reminders(dir.path());
    assert!(reminders.is_empty(), "{reminders:?}");
}
