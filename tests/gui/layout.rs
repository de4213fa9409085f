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

/// Log rows laid out whole inside the window.
fn rows(h: &Harness<'_, SocketLabApp>, height: f32) -> usize {
    h.query_all_by(|n| n.value().is_some_and(|v| v.contains("◀ in")))
        .filter(|n| {
            let r = n.rect();
            r.top() >= 0.0 && r.bottom() <= height
        })
        .count()
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
        let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(LARGE.0, LARGE.1));
        let labels = [main, "Port", "Tools", "Message", "Send"];
        let rects: Vec<(&str, egui::Rect)> = labels
            .iter()
            .map(|l| (*l, h.get_by_label(l).rect()))
            .collect();
        for (label, rect) in &rects {
            assert!(
                screen.contains_rect(*rect),
                "{}: {label} is cut off at 175%: {rect:?}",
                kind.label()
            );
        }
        for (i, (a, ra)) in rects.iter().enumerate() {
            for (b, rb) in &rects[i + 1..] {
                assert!(
                    !ra.shrink(1.0).intersects(rb.shrink(1.0)),
                    "{}: {a} {ra:?} overlaps {b} {rb:?}",
                    kind.label()
                );
            }
        }
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
