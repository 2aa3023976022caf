//! The native host's one loop between the browser and the agent, whatever the
//! way to the agent ([`Transport`]: the session bus on Linux, `bus.rs`; the
//! named pipe on Windows, `pipe.rs`). The browser's frames come from the stdin
//! thread ([`super::read_input`]); at most one call to the agent is under way,
//! the choices made on pause pages first (in order), then the last facts: facts that
//! arrive meanwhile replace the waiting ones, so a burst of any size ends with
//! the last facts delivered, never with a queue. The call and the transport
//! are served before the browser's input, so a browser that never stops
//! writing cannot keep a reply from being read. The browser is told `on` or
//! `off` each time that changes, and gets the pause page an answer asks for.
//! The loop never looks inside the messages it carries.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;

use anyhow::{Context, Result};
use tokio::sync::mpsc;

use super::{read_input, reply, write_frame, Input, Pause, PauseChoice, TabFacts};

/// How a tab report ended: the pause page the agent asks for, if any (boxed:
/// it is most of the size, and rare), or why no agent took it.
pub(super) type Delivery<E> = Result<Option<Box<Pause>>, E>;

/// What a finished call says.
pub(super) enum Sent<E> {
    /// A tab report.
    Facts(Delivery<E>),
    /// A pause page's outcome (the transport logged a failure).
    PauseResult,
}

/// How the host reaches the agent. A call owns what it needs (a call may
/// take something from the transport and give it back when it ends, as
/// [`Transport::Held`]), so that the transport can be read while it is under
/// way.
pub(super) trait Transport {
    /// What a call took from the transport and gives back (the pipe's
    /// connection).
    type Held;
    /// Why a tab report reached no agent.
    type Error;
    /// A call under way.
    type Call: Future<Output = (Self::Held, Sent<Self::Error>)> + Unpin;

    /// Before each step: (re)connects if need be.
    async fn connect(&mut self) {}

    /// Starts telling the agent the tab's facts.
    fn tab(&mut self, facts: &TabFacts) -> Self::Call;

    /// Starts passing on the employee's choice on a pause page.
    fn pause_result(&mut self, choice: PauseChoice) -> Self::Call;

    /// A finished call gives back what it took.
    fn give_back(&mut self, _held: Self::Held) {}

    /// Whether the last facts may be sent now; `input_open`: the browser has
    /// not closed the port yet (after that, a last try is always made).
    fn may_send(&self, _input_open: bool) -> bool {
        true
    }

    /// A tab report ended so; `true` to keep its facts for another try.
    fn delivered(&mut self, _result: &Delivery<Self::Error>, _input_open: bool) -> bool {
        false
    }

    /// The transport's own news: resolves `true` when the agent should have
    /// the last facts again (it has come back), `false` for anything else;
    /// never resolves while there is nothing to wait for.
    async fn news(&mut self) -> bool;
}

/// Starts the thread that reads the browser's frames from stdin.
pub(super) fn stdin() -> Result<mpsc::Receiver<Input>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_input(std::io::stdin().lock(), tx))
        .context("cannot start the thread reading from the browser")?;
    Ok(rx)
}

/// What the host keeps between messages.
#[derive(Default)]
struct Host {
    /// The last facts from the browser, and whether the agent has them yet.
    last: Option<TabFacts>,
    unsent: bool,
    /// Choices made on pause pages, to pass on in order.
    outcomes: VecDeque<PauseChoice>,
    /// What the browser was last told (`on`, `off`), if anything.
    told: Option<bool>,
    /// Messages dropped (logged once, then counted).
    dropped: u64,
}

/// Relays the browser's messages from `rx` to the agent through `transport`,
/// and the agent's answers to `out`, until the browser closes the port and
/// the last call has ended.
pub(super) async fn relay<T: Transport>(
    mut transport: T,
    mut rx: mpsc::Receiver<Input>,
    out: &mut impl Write,
) -> Result<()> {
    let mut host = Host::default();
    let mut input_open = true;
    let mut call: Option<T::Call> = None;
    loop {
        transport.connect().await;
        if call.is_none() {
            call = host.next_call(&mut transport, input_open);
        }
        if !input_open && call.is_none() {
            break;
        }
        tokio::select! {
            biased;
            (held, sent) = next_sent(&mut call), if call.is_some() => {
                call = None;
                transport.give_back(held);
                host.answer(&mut transport, sent, input_open, out)?;
            }
            again = transport.news() => host.unsent |= again && host.last.is_some(),
            input = rx.recv(), if input_open => match input {
                None | Some(Input::End(None)) => input_open = false,
                Some(Input::End(Some(e))) => {
                    tracing::warn!(error = %e, "the browser's messages broke off");
                    input_open = false;
                }
                Some(input) => host.take(input),
            },
        }
    }
    tracing::info!(
        dropped = host.dropped,
        "the browser closed the port; native-messaging host done"
    );
    Ok(())
}

async fn next_sent<C: Future + Unpin>(call: &mut Option<C>) -> C::Output {
    match call {
        Some(c) => c.await,
        None => std::future::pending().await,
    }
}

impl Host {
    /// One message from the browser.
    fn take(&mut self, input: Input) {
        match input {
            Input::Dropped(why) => {
                self.dropped += 1;
                // Once, then counted (the count is logged at the end): a
                // browser sending junk must not fill the log.
                if self.dropped == 1 {
                    tracing::info!(reason = %why, "dropped a message from the browser (logged once, then counted)");
                }
            }
            Input::Facts(facts) => {
                self.last = Some(facts);
                self.unsent = true;
            }
            Input::PauseResult(choice) => self.outcomes.push_back(choice),
            Input::End(_) => {}
        }
    }

    /// The next call, if there is something to say: outcomes first, then
    /// the last facts (when the transport lets them go).
    fn next_call<T: Transport>(&mut self, transport: &mut T, input_open: bool) -> Option<T::Call> {
        if let Some(choice) = self.outcomes.pop_front() {
            return Some(transport.pause_result(choice));
        }
        if !self.unsent || !transport.may_send(input_open) {
            return None;
        }
        let facts = self.last.as_ref()?;
        self.unsent = false;
        Some(transport.tab(facts))
    }

    /// Tells the browser what a finished call means for it.
    fn answer<T: Transport>(
        &mut self,
        transport: &mut T,
        sent: Sent<T::Error>,
        input_open: bool,
        out: &mut impl Write,
    ) -> Result<()> {
        let Sent::Facts(result) = sent else {
            return Ok(());
        };
        self.unsent |= transport.delivered(&result, input_open);
        let on = result.is_ok();
        if self.told != Some(on) {
            write_frame(out, reply(on)).context("cannot answer the browser")?;
            tracing::info!(on, "dwell agent reachable");
            self.told = Some(on);
        }
        if let Ok(Some(pause)) = result {
            write_frame(out, &pause.to_message()).context("cannot answer the browser")?;
            tracing::info!("pause page asked for");
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use super::super::{read_frame, Frame, PageId, PauseOutcome};
    use super::*;

    /// An agent that answers after 10 ms while `up`, asks for a pause page
    /// for `pause.example.com`, and writes down what reached it.
    /// What reached the fake agent, in order.
    type Got = Rc<RefCell<Vec<String>>>;

    #[derive(Default)]
    struct Fake {
        up: Rc<Cell<bool>>,
        got: Got,
        /// Each message: the agent has come back.
        back: Option<mpsc::UnboundedReceiver<()>>,
    }

    impl Fake {
        /// A fake agent, up or not, and what reaches it.
        fn new(up: bool) -> (Fake, Rc<Cell<bool>>, Got) {
            let fake = Fake::default();
            fake.up.set(up);
            let (up, got) = (fake.up.clone(), fake.got.clone());
            (fake, up, got)
        }
    }

    type FakeCall = std::pin::Pin<Box<dyn Future<Output = ((), Sent<&'static str>)>>>;

    impl Transport for Fake {
        type Held = ();
        type Error = &'static str;
        type Call = FakeCall;

        fn tab(&mut self, facts: &TabFacts) -> FakeCall {
            let (up, got) = (self.up.get(), self.got.clone());
            let host = facts.host.clone().unwrap_or_default();
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if !up {
                    return ((), Sent::Facts(Err("no agent")));
                }
                got.borrow_mut().push(format!("tab {host}"));
                let pause = (host == "pause.example.com")
                    .then(pause)
                    .flatten()
                    .map(Box::new);
                ((), Sent::Facts(Ok(pause)))
            })
        }

        fn pause_result(&mut self, choice: PauseChoice) -> FakeCall {
            let (up, got) = (self.up.get(), self.got.clone());
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if up {
                    let page = choice.page.map(|p| p.to_string()).unwrap_or_default();
                    let outcome = choice.outcome.as_str();
                    got.borrow_mut().push(format!("outcome {outcome} {page}"));
                }
                ((), Sent::PauseResult)
            })
        }

        async fn news(&mut self) -> bool {
            let Some(back) = self.back.as_mut() else {
                return std::future::pending().await;
            };
            let came = back.recv().await.is_some();
            if !came {
                // Nothing more to wait for (as the bus without a connection).
                self.back = None;
            }
            came
        }
    }

    fn pause() -> Option<Pause> {
        let keys = ["today", "limit", "line", "lang", "continue", "close"];
        Pause::from_map(keys.iter().map(|k| (k.to_string(), "x".into())).collect())
    }

    fn facts(host: &str) -> Input {
        Input::Facts(TabFacts {
            host: Some(host.into()),
            focused: true,
            ..TabFacts::default()
        })
    }

    /// The frames the browser was sent.
    fn frames(mut out: &[u8]) -> Vec<String> {
        let mut all = Vec::new();
        while let Some(Frame::Message(m)) = read_frame(&mut out).unwrap() {
            all.push(String::from_utf8(m).unwrap());
        }
        all
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap()
    }

    /// 10,000 facts in one go: the agent gets the last of them, in a few
    /// calls, not a queue of them; the browser is told `on` once.
    #[test]
    fn a_flood_ends_with_the_last_facts_delivered() {
        let (fake, _, got) = Fake::new(true);
        let (tx, rx) = mpsc::channel(16);
        let mut out = Vec::new();
        runtime().block_on(async {
            let flood = async move {
                for i in 0..10_000 {
                    tx.send(facts(&format!("h{i}.example.com"))).await.unwrap();
                }
            };
            let (relayed, ()) = tokio::join!(relay(fake, rx, &mut out), flood);
            relayed.unwrap();
        });
        let got = got.borrow();
        assert_eq!(
            got.last().map(String::as_str),
            Some("tab h9999.example.com")
        );
        assert!(got.len() < 100, "{} calls", got.len());
        assert_eq!(frames(&out), [r#"{"dwell":"on"}"#]);
    }

    /// No agent, then one: the browser is told `off`, then `on` with the
    /// pause page asked for; the agent that came back gets the last facts
    /// again; an outcome goes before the facts that follow it.
    #[test]
    fn an_agent_that_comes_back_gets_the_last_facts_and_outcomes_go_first() {
        let (mut fake, up, got) = Fake::new(false);
        let (back, news) = mpsc::unbounded_channel();
        fake.back = Some(news);
        let (tx, rx) = mpsc::channel(16);
        let mut out = Vec::new();
        runtime().block_on(async {
            let script = async move {
                let step = Duration::from_millis(100);
                tx.send(facts("pause.example.com")).await.unwrap();
                tokio::time::sleep(step).await;
                up.set(true);
                back.send(()).unwrap();
                tokio::time::sleep(step).await;
                let choice = PauseChoice {
                    outcome: PauseOutcome::Continued,
                    page: PageId::parse("7"),
                };
                tx.send(Input::PauseResult(choice)).await.unwrap();
                tx.send(facts("b.example.com")).await.unwrap();
                tokio::time::sleep(step).await;
            };
            let (relayed, ()) = tokio::join!(relay(fake, rx, &mut out), script);
            relayed.unwrap();
        });
        assert_eq!(
            *got.borrow(),
            [
                "tab pause.example.com",
                "outcome continued 7",
                "tab b.example.com"
            ]
        );
        let pause = String::from_utf8(pause().unwrap().to_message()).unwrap();
        assert_eq!(
            frames(&out),
            [r#"{"dwell":"off"}"#, r#"{"dwell":"on"}"#, pause.as_str()]
        );
    }
}
