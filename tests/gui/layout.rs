//! The log comes first: how many log rows a session shows at 1280×800 (100%: at least 25 in
//! every kind, 15 on a TCP server with five clients) and at the 175% large-text preset (at least
//! 10, with the controls inside the window and not on top of each other). Rows are counted as
//! the harness lays them out (the log lays out only the rows on screen).

use std::net::TcpStream;
use std::time::SystemTime;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use socketlab::engine::log_store::Direction;
use socketlab::gui::roles::{TcpClient, TcpServer, UdpClient, UdpServer};
use socketlab::gui::session::{Role, SessionKind, SessionTab};
use socketlab::gui::{Pane, SocketLabApp};

use crate::gui_support::{click, set_field, step_until, tcp_server};

/// A window of `width` × `height` points.
fn window(width: f32, height: f32) -> Harness<'static, SocketLabApp> {
    crate::gui_support::harness_of_size(width, height)
}

/// Shows the first session of role `R` with 500 received rows in its log.
fn show_filled<R: Role>(h: &mut Harness<'_, SocketLabApp>) -> u64 {
    let id = h.state().sessions_of::<R>().next().map_or(0, |s| s.id);
    h.state_mut().focus(Pane::Session(id));
    fill::<R>(h, id);
    id
}

fn fill<R: Role>(h: &mut Harness<'_, SocketLabApp>, id: u64) {
    let peer = "127.0.0.1:9000".parse().ok();
    if let Some(s) = h.state_mut().session_as_mut::<R>(id) {
        fill_log(s, peer);
    }
    for _ in 0..4 {
        h.step();
    }
}

fn fill_log<R: Role>(s: &mut SessionTab<R>, peer: Option<std::net::SocketAddr>) {
    for i in 0..500 {
        let line = format!("reading {i}: 21.5 C");
        s.activity.log.push_data(
            SystemTime::now(),
            Direction::In,
            peer,
            None,
            line.as_bytes(),
        );
    }
}

/// Log rows visible whole: one per row (a row is a label with a text run inside; its text
/// starts with the time, `12:34:56.789`), between the log's header (the Text view / Hex view
/// switch) and the composer under it. The scroll area lays out a row more than it shows, partly
/// under the header; that one does not count.
fn rows(h: &Harness<'_, SocketLabApp>, height: f32) -> usize {
    // The log's header ends above the rows; its view switch starts right of where they do (the
    // socket calls, also led by the time, sit further right).
    let switch = h.get_by_label("Text view").rect();
    let composer = h.get_by_label("Message").rect().top().min(height);
    let is_row = |text: &str| {
        let b = text.as_bytes();
        b.len() > 12
            && b[2] == b':'
            && b[5] == b':'
            && b[8] == b'.'
            && b[..2].iter().all(u8::is_ascii_digit)
    };
    let mut tops: Vec<i64> = h
        .query_all_by(|n| {
            n.role() == egui::accesskit::Role::Label && n.value().is_some_and(|v| is_row(&v))
        })
        .map(|n| n.rect())
        .filter(|r| r.top() >= switch.bottom() && r.bottom() <= composer)
        .filter(|r| r.left() < switch.left())
        .map(|r| r.top().round() as i64)
        .collect();
    tops.dedup();
    tops.len()
}

const KINDS: [SessionKind; 4] = SessionKind::ALL;

fn show_kind(h: &mut Harness<'_, SocketLabApp>, kind: SessionKind) {
    match kind {
        SessionKind::TcpClient => drop(show_filled::<TcpClient>(h)),
        SessionKind::TcpServer => drop(show_filled::<TcpServer>(h)),
        SessionKind::UdpClient => drop(show_filled::<UdpClient>(h)),
        SessionKind::UdpServer => drop(show_filled::<UdpServer>(h)),
    }
}

#[test]
fn at_1280_by_800_every_kind_shows_at_least_25_log_rows() {
    for kind in KINDS {
        let mut h = window(1280.0, 800.0);
        show_kind(&mut h, kind);
        let shown = rows(&h, 800.0);
        eprintln!("{}: {shown} log rows at 1280×800", kind.label());
        assert!(shown >= 25, "{}: only {shown} log rows", kind.label());
    }
}

#[test]
fn a_tcp_server_with_five_clients_still_shows_15_log_rows() {
    let mut h = window(1280.0, 800.0);
    let id = h
        .state()
        .sessions_of::<TcpServer>()
        .next()
        .map_or(0, |s| s.id);
    h.state_mut().focus(Pane::Session(id));
    h.step();
    set_field(&mut h, "Port", "0");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.expect("listening");
    let clients: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    step_until(&mut h, "five clients", |h| {
        tcp_server(h).role.clients.len() == 5
    });
    fill::<TcpServer>(&mut h, id);
    let shown = rows(&h, 800.0);
    eprintln!("TCP server with 5 clients: {shown} log rows at 1280×800");
    assert!(shown >= 15, "only {shown} log rows");
    drop(clients);
}

/// 175% on a 1280×800 screen leaves 731×457 points.
const LARGE: (f32, f32) = (1280.0 / 1.75, 800.0 / 1.75);

#[test]
fn at_175_percent_the_log_keeps_10_rows_and_nothing_is_cut_or_on_top_of_another() {
    for kind in KINDS {
        let mut h = window(LARGE.0, LARGE.1);
        show_kind(&mut h, kind);
        let shown = rows(&h, LARGE.1);
        eprintln!("{}: {shown} log rows at 175%", kind.label());
        assert!(
            shown >= 10,
            "{}: only {shown} log rows at 175%",
            kind.label()
        );
        let main = match kind {
            SessionKind::TcpClient => "Connect",
            SessionKind::TcpServer => "Listen",
            SessionKind::UdpClient => "Open socket",
            SessionKind::UdpServer => "Bind",
        };
        let labels = [main, "Port", "Tools", "Message", "Send"];
        let rects: Vec<(String, egui::Rect)> = labels
            .iter()
            .map(|l| ((*l).to_owned(), h.get_by_label(l).rect()))
            .collect();
        assert_inside_and_apart(kind.label(), &rects);
    }
}

#[test]
fn a_sentence_that_appears_moves_no_button() {
    let mut h = window(1280.0, 800.0);
    let id = h
        .state()
        .sessions_of::<TcpClient>()
        .next()
        .map_or(0, |s| s.id);
    h.state_mut().focus(Pane::Session(id));
    h.step();
    let before = h.get_by_label("Connect").rect();
    let send_before = h.get_by_label("Send").rect();
    set_field(&mut h, "Port", "99999");
    assert!(crate::gui_support::shows(&h, "99999 is not a port"));
    assert_eq!(
        h.get_by_label("Connect").rect(),
        before,
        "Connect stays put"
    );
    assert_eq!(h.get_by_label("Send").rect(), send_before, "Send stays put");
}

#[test]
fn in_a_narrow_server_tile_every_client_control_stays_inside_it() {
    let mut h = window(1280.0, 800.0);
    let id = h
        .state()
        .sessions_of::<TcpServer>()
        .next()
        .map_or(0, |s| s.id);
    if let Some(s) = h.state_mut().session_as_mut::<TcpServer>(id) {
        s.settings.port = "0".to_owned();
    }
    click(&mut h, "Layout");
    click(&mut h, "Server and client side by side");
    click(&mut h, "Listen");
    step_until(&mut h, "the server listens", |h| {
        tcp_server(h).role.listening.is_some()
    });
    let addr = tcp_server(&h).role.listening.expect("listening");
    let clients: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    step_until(&mut h, "two clients", |h| {
        tcp_server(h).role.clients.len() == 2
    });
    for _ in 0..3 {
        h.step();
    }
    let tile = h
        .state()
        .tree
        .tiles
        .find_pane(&Pane::Session(id))
        .and_then(|t| h.state().tree.tiles.rect(t))
        .expect("the server's tile");
    let edge = tile.right();
    let row = h.get_by_label("client 1").rect();
    let cells: Vec<(String, egui::Rect)> = h
        .query_all_by(|_| true)
        .filter(|n| n.accesskit_node().bounding_box().is_some())
        .filter(|n| {
            let r = n.rect();
            (r.center().y - row.center().y).abs() < row.height() / 2.0
                && tile.contains(r.left_top())
        })
        .map(|n| {
            let node = n.accesskit_node();
            (
                format!("{:?}", node.label().or_else(|| node.value())),
                n.rect(),
            )
        })
        .collect();
    assert!(cells.len() >= 5, "the row's cells: {cells:?}");
    for (name, rect) in &cells {
        assert!(
            rect.right() <= edge,
            "{name} ends at {} beyond the server tile ({edge})",
            rect.right()
        );
    }
    // The buttons are a click away: Disconnect the first client.
    h.query_all_by_label("Actions")
        .next()
        .expect("a menu")
        .click();
    h.step();
    h.step();
    h.get_by_label("Disconnect").click();
    step_until(&mut h, "one client left", |h| {
        tcp_server(h).role.clients.len() == 1
    });
    drop(clients);
}

/// Starts the shown session of `kind` on loopback as a user would (a TCP server with one client
/// connected); returns what must stay open meanwhile.
fn start_shown(
    h: &mut Harness<'_, SocketLabApp>,
    kind: SessionKind,
) -> Vec<Box<dyn std::any::Any>> {
    use std::net::{Ipv4Addr, TcpListener, UdpSocket};
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    let running = |h: &Harness<'_, SocketLabApp>| {
        h.state()
            .active_session()
            .is_some_and(|s| s.dot() == socketlab::gui::session::Dot::Running)
    };
    match kind {
        SessionKind::TcpClient => {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
            let port = listener.local_addr().expect("addr").port();
            set_field(h, "Port", &port.to_string());
            click(h, "Connect");
            let (peer, _) = listener.accept().expect("accept");
            keep.push(Box::new((listener, peer)));
        }
        SessionKind::TcpServer => {
            set_field(h, "Port", "0");
            click(h, "Listen");
            step_until(h, "the server listens", |h| {
                tcp_server(h).role.listening.is_some()
            });
            let addr = tcp_server(h).role.listening.expect("listening");
            keep.push(Box::new(TcpStream::connect(addr).expect("connect")));
            step_until(h, "one client", |h| tcp_server(h).role.clients.len() == 1);
        }
        SessionKind::UdpClient => {
            let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
            let port = peer.local_addr().expect("addr").port();
            set_field(h, "Port", &port.to_string());
            click(h, "Open socket");
            keep.push(Box::new(peer));
        }
        SessionKind::UdpServer => {
            set_field(h, "Port", "0");
            click(h, "Bind");
        }
    }
    step_until(h, "the session runs", running);
    keep
}

#[test]
fn at_175_percent_a_running_session_still_shows_10_log_rows() {
    for kind in KINDS {
        let mut h = window(LARGE.0, LARGE.1);
        show_kind(&mut h, kind);
        let keep = start_shown(&mut h, kind);
        for _ in 0..4 {
            h.step();
        }
        let shown = rows(&h, LARGE.1);
        eprintln!("{} running: {shown} log rows at 175%", kind.label());
        assert!(
            shown >= 10,
            "{} running: only {shown} log rows at 175%",
            kind.label()
        );
        assert_controls_fit(&h, kind);
        drop(keep);
    }
}

/// Every control of the session (below the menu and tab bars, which scroll their own way) lies
/// inside the 175% window, and no two overlap.
fn assert_controls_fit(h: &Harness<'_, SocketLabApp>, kind: SessionKind) {
    let controls = session_controls(h);
    assert!(controls.len() >= 10, "{}: {controls:?}", kind.label());
    assert_inside_and_apart(&format!("{} running", kind.label()), &controls);
}

/// Each of `controls` lies inside the 175% window, and no two overlap.
fn assert_inside_and_apart(what: &str, controls: &[(String, egui::Rect)]) {
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(LARGE.0, LARGE.1));
    for (name, rect) in controls {
        assert!(
            screen.contains_rect(*rect),
            "{what}: {name} is cut off at 175%: {rect:?}"
        );
    }
    for (i, (a, ra)) in controls.iter().enumerate() {
        for (b, rb) in &controls[i + 1..] {
            assert!(
                !ra.shrink(1.0).intersects(rb.shrink(1.0)),
                "{what}: {a} {ra:?} overlaps {b} {rb:?}"
            );
        }
    }
}

/// The sessions' controls (below the menu and tab bars, which scroll their own way), by label.
fn session_controls(h: &Harness<'_, SocketLabApp>) -> Vec<(String, egui::Rect)> {
    use egui::accesskit::Role as A;
    let tabs_bottom = h
        .query_all_by(|n| n.label().is_some_and(|l| l.starts_with("Close session")))
        .map(|n| n.rect().bottom())
        .fold(0.0_f32, f32::max);
    h.query_all_by(|n| {
        matches!(
            n.role(),
            A::Button | A::TextInput | A::CheckBox | A::ComboBox
        )
    })
    .filter(|n| n.accesskit_node().bounding_box().is_some())
    .map(|n| {
        let node = n.accesskit_node();
        (node.label().unwrap_or_default(), n.rect())
    })
    .filter(|(_, r)| r.top() > tabs_bottom + 1.0)
    .collect()
}

#[test]
fn the_divider_between_log_and_socket_calls_can_be_dragged() {
    let mut h = window(1280.0, 800.0);
    let id = h
        .state()
        .sessions_of::<TcpClient>()
        .next()
        .map_or(0, |s| s.id);
    h.state_mut().focus(Pane::Session(id));
    for _ in 0..3 {
        h.step();
    }
    let calls = |h: &Harness<'_, SocketLabApp>| h.get_by_label("Explain calls").rect().left();
    let before = calls(&h);
    // The panel's edge lies just left of its content (inside its margin).
    let edge = egui::pos2(h.get_by_label("Socket calls").rect().left() - 8.0, 400.0);
    let moved = edge - egui::vec2(150.0, 0.0);
    h.hover_at(edge);
    h.step();
    h.drag_at(edge);
    h.step();
    for step in 1..=5 {
        h.hover_at(edge - egui::vec2(30.0 * step as f32, 0.0));
        h.step();
    }
    h.drop_at(moved);
    for _ in 0..3 {
        h.step();
    }
    let after = calls(&h);
    assert!(
        (before - after - 150.0).abs() < 10.0,
        "the socket calls panel grew by the drag: its content moved from x = {before} to {after}"
    );
}
