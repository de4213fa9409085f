//! The sequence diagram of a TCP connection: two lanes (client and server) and one arrow per
//! thing that crossed between them — the handshake, each send and receive with its size, FIN,
//! close or reset — drawn from the real events of the connection, as they arrive.

use std::collections::{BTreeMap, VecDeque};

use egui::{Align2, Color32, FontId, Pos2, Sense, Stroke, Ui, vec2};

use crate::engine::{CloseReason, ConnId, Event, EventKind};
use crate::gui::text as t;
use crate::gui::text_teach as tt;

/// Arrows kept per connection; older ones are counted.
const ARROWS_PER_CONNECTION: usize = 500;
/// Connections remembered; the oldest is forgotten first.
const CONNECTIONS_KEPT: usize = 64;

/// What an arrow stands for (its colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowKind {
    /// The three-way handshake.
    Handshake,
    /// Bytes.
    Data,
    /// FIN: no more data from this side.
    Fin,
    /// The connection was reset or failed.
    Reset,
    /// A step of the TLS handshake, or its closing alert.
    Tls,
}

/// One arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// True when it starts at the client's lane.
    pub from_client: bool,
    /// What it carries.
    pub kind: ArrowKind,
    /// Its label ("send 12 B").
    pub label: String,
    /// When the event behind it happened.
    pub at: std::time::SystemTime,
}

/// One connection's arrows.
#[derive(Debug, Default)]
struct Lane {
    arrows: VecDeque<Arrow>,
    hidden: u64,
    client: Option<std::net::SocketAddr>,
    server: Option<std::net::SocketAddr>,
}

/// Every connection's arrows, from one side's events (`we_are_client` says which).
#[derive(Debug)]
pub struct SequenceLog {
    we_are_client: bool,
    lanes: BTreeMap<ConnId, Lane>,
    newest: Option<ConnId>,
}

impl SequenceLog {
    /// An empty log for the client's (or the server's) side.
    pub fn new(we_are_client: bool) -> Self {
        SequenceLog {
            we_are_client,
            lanes: BTreeMap::new(),
            newest: None,
        }
    }

    /// The connection that connected last.
    pub fn newest(&self) -> Option<ConnId> {
        self.newest
    }

    /// The arrows of `conn`, oldest first.
    pub fn arrows(&self, conn: ConnId) -> impl Iterator<Item = &Arrow> {
        self.lanes
            .get(&conn)
            .into_iter()
            .flat_map(|l| l.arrows.iter())
    }

    /// Adds the arrow an event stands for, if any.
    pub fn observe(&mut self, event: &Event) {
        let ours = self.we_are_client;
        let (conn, arrow) = match &event.kind {
            EventKind::Connected { conn, local, peer } => {
                // A client session numbers its one connection afresh: start its lane over.
                let (client, server) = if ours { (local, peer) } else { (peer, local) };
                self.lanes.insert(
                    *conn,
                    Lane {
                        client: Some(*client),
                        server: Some(*server),
                        ..Lane::default()
                    },
                );
                self.newest = Some(*conn);
                while self.lanes.len() > CONNECTIONS_KEPT {
                    self.lanes.pop_first();
                }
                (*conn, arrow(true, ArrowKind::Handshake, tt::SEQ_HANDSHAKE))
            }
            EventKind::Sent { conn, data, .. } => (
                *conn,
                arrow(ours, ArrowKind::Data, &tt::seq_sent(data.len())),
            ),
            EventKind::Received { conn, data, .. } => (
                *conn,
                arrow(!ours, ArrowKind::Data, &tt::seq_received(data.len())),
            ),
            EventKind::WriteShutdown { conn, .. } => {
                (*conn, arrow(ours, ArrowKind::Fin, tt::SEQ_FIN_SHUTDOWN))
            }
            EventKind::PeerFinished { conn, .. } => {
                (*conn, arrow(!ours, ArrowKind::Fin, tt::SEQ_FIN_PEER))
            }
            EventKind::Disconnected { conn, reason, .. } => {
                let arrow = match reason {
                    CloseReason::YouClosed | CloseReason::ServerStopped => {
                        arrow(ours, ArrowKind::Fin, tt::SEQ_CLOSE)
                    }
                    CloseReason::YouAborted => arrow(ours, ArrowKind::Reset, tt::SEQ_RESET_SENT),
                    CloseReason::PeerClosed => {
                        arrow(ours, ArrowKind::Fin, tt::SEQ_CLOSE_AFTER_PEER)
                    }
                    CloseReason::Failed(e) => {
                        arrow(!ours, ArrowKind::Reset, &tt::seq_failed(&e.to_string()))
                    }
                };
                (*conn, arrow)
            }
            EventKind::Tls(tls) => {
                let Some(conn) = tls.conn else { return };
                let Some(arrow) = tls_arrow(ours, &tls.step) else {
                    return;
                };
                (conn, arrow)
            }
            _ => return,
        };
        let arrow = Arrow {
            at: event.at,
            ..arrow
        };
        let lane = self.lanes.entry(conn).or_default();
        // The reader and the writer report from different threads, so an event can come in a
        // little after a later one (our FIN after the peer's answering FIN): place it by time.
        let position = lane
            .arrows
            .iter()
            .rposition(|a| a.at <= arrow.at)
            .map_or(0, |i| i + 1);
        lane.arrows.insert(position, arrow);
        if lane.arrows.len() > ARROWS_PER_CONNECTION {
            lane.arrows.pop_front();
            lane.hidden += 1;
        }
    }
}

/// The arrow of a TLS step: hellos, the certificate, the end of the handshake, `close_notify`.
fn tls_arrow(ours: bool, step: &crate::engine::TlsStep) -> Option<Arrow> {
    use crate::engine::TlsStep;
    Some(match step {
        TlsStep::HandshakeStarted {
            server_name, alpn, ..
        } => arrow(
            true,
            ArrowKind::Tls,
            &t::seq_client_hello(server_name.as_deref(), alpn),
        ),
        TlsStep::Negotiated {
            version,
            cipher_suite,
            ..
        } => arrow(
            false,
            ArrowKind::Tls,
            &t::seq_server_hello(version, cipher_suite),
        ),
        TlsStep::PeerCertificates {
            chain,
            verification,
        } => {
            let subject = chain.first().map_or("", |c| c.subject.as_str());
            // The peer sends its certificate: the server's to a client, a client's to a server.
            arrow(
                !ours,
                ArrowKind::Tls,
                &t::seq_certificate(subject, t::seq_verdict(*verification)),
            )
        }
        TlsStep::Established { alpn, .. } => {
            arrow(true, ArrowKind::Tls, &t::seq_finished(alpn.as_deref()))
        }
        TlsStep::CloseNotifySent => arrow(ours, ArrowKind::Tls, t::SEQ_CLOSE_NOTIFY),
        TlsStep::CloseNotifyReceived => arrow(!ours, ArrowKind::Tls, t::SEQ_CLOSE_NOTIFY),
        TlsStep::ServerCertificate { .. } => return None,
    })
}

fn arrow(from_client: bool, kind: ArrowKind, label: &str) -> Arrow {
    Arrow {
        from_client,
        kind,
        label: label.to_owned(),
        at: std::time::UNIX_EPOCH,
    }
}

/// The diagram in a collapsible section (closed at first, so the log keeps its room).
pub fn sequence_section(ui: &mut Ui, log: Option<&SequenceLog>, conn: Option<ConnId>) {
    let Some(log) = log else {
        return;
    };
    egui::CollapsingHeader::new(tt::SEQUENCE)
        .id_salt(("sequence-section", log.we_are_client))
        .show(ui, |ui| {
            let height = (ui.ctx().content_rect().height() * 0.25).max(100.0);
            sequence_diagram(ui, log, conn, height);
        })
        .header_response
        .on_hover_text(tt::SEQUENCE_HINT);
}

/// Draws the diagram of `conn` (the newest connection when `None`), at most `height` tall; the
/// newest arrows stay in view.
pub fn sequence_diagram(ui: &mut Ui, log: &SequenceLog, conn: Option<ConnId>, height: f32) {
    let Some(lane) = conn.or(log.newest).and_then(|c| log.lanes.get(&c)) else {
        ui.weak(tt::SEQ_EMPTY);
        return;
    };
    // Within what is visible: a wide row elsewhere in the tab may widen the layout past the
    // window's edge (at 200% zoom), and the server lane must stay on screen.
    let visible = ui.clip_rect().right() - ui.cursor().left();
    let width = ui.available_width().min(visible).max(200.0);
    let left = 70.0_f32.min(width * 0.2);
    let right = width - left;
    let font = FontId::monospace(ui.text_style_height(&egui::TextStyle::Small).max(11.0));
    let text_color = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let (warn, error) = (ui.visuals().warn_fg_color, ui.visuals().error_fg_color);
    let good = super::good_color(ui.visuals());
    // A blue readable on the theme's background (at least 4.5:1), apart from the handshake's
    // green and the data's text colour.
    let tls_colour = if ui.visuals().dark_mode {
        Color32::from_rgb(110, 170, 255)
    } else {
        Color32::from_rgb(20, 80, 190)
    };
    let kind_colour = |kind: ArrowKind| -> Color32 {
        match kind {
            ArrowKind::Handshake => good,
            ArrowKind::Data => text_color,
            ArrowKind::Fin => warn,
            ArrowKind::Reset => error,
            ArrowKind::Tls => tls_colour,
        }
    };
    // Lane headings: who is who, with the addresses.
    let (header, _) = ui.allocate_exact_size(vec2(width, font.size * 2.6), Sense::hover());
    let painter = ui.painter_at(header);
    let names = [
        (left, tt::seq_lane(tt::DEMO_CLIENT, lane.client)),
        (right, tt::seq_lane(tt::DEMO_SERVER, lane.server)),
    ];
    for (x, name) in names {
        painter.text(
            Pos2::new(header.left() + x, header.top()),
            Align2::CENTER_TOP,
            name,
            font.clone(),
            text_color,
        );
    }
    if lane.hidden > 0 {
        ui.weak(tt::seq_hidden(lane.hidden));
    }
    let row = font.size * 2.4;
    egui::ScrollArea::vertical()
        .id_salt("sequence-diagram")
        .max_height(height)
        .auto_shrink([false, true])
        .stick_to_bottom(true)
        .show_rows(ui, row, lane.arrows.len(), |ui, rows| {
            for arrow in rows.filter_map(|i| lane.arrows.get(i)) {
                let (rect, response) = ui.allocate_exact_size(vec2(width, row), Sense::hover());
                let painter = ui.painter_at(rect);
                let lx = rect.left() + left;
                let rx = rect.left() + right;
                // The lifelines.
                for x in [lx, rx] {
                    painter.line_segment(
                        [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
                        Stroke::new(1.0, weak),
                    );
                }
                let (from, to) = if arrow.from_client {
                    (lx, rx)
                } else {
                    (rx, lx)
                };
                // A slight slope: what is sent arrives a moment later.
                let start = Pos2::new(from, rect.top() + row * 0.55);
                let end = Pos2::new(to, rect.top() + row * 0.85);
                let color = kind_colour(arrow.kind);
                painter.arrow(start, end - start, Stroke::new(1.6, color));
                painter.text(
                    Pos2::new(f32::midpoint(lx, rx), rect.top() + row * 0.45),
                    Align2::CENTER_BOTTOM,
                    &arrow.label,
                    font.clone(),
                    color,
                );
                response.on_hover_text(&arrow.label);
            }
        });
}
