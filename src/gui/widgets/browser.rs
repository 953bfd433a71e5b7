//! Buckets on the left; the current level in a virtualized table with breadcrumbs, sorting,
//! filter, multi-select, keyboard navigation and a context menu.

use egui::{Key, Sense};

use crate::engine::base::wording::{format_modified, human_size};
use crate::engine::{BucketInfo, S3Uri};
use crate::gui::backend::FIRST_ROWS;
use crate::gui::state::{Column, Listing, Loadable};

/// What the user asked of the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserAction {
    OpenBucket(String),
    /// Go to this prefix of the current bucket (folder row, breadcrumb, Backspace).
    GoTo(String),
    Share(S3Uri),
    /// One link to a share page of these (folders as `prefix/`, objects).
    SharePage(Vec<S3Uri>),
    CopyLinks(Vec<S3Uri>),
    /// Download the selection: object keys, and folder prefixes (everything under them).
    Download(Vec<String>),
    Delete(Vec<S3Uri>),
    NewFolder,
    Refresh,
    /// Load rows up to this count (scrolling, sorting, filtering).
    Want(usize),
}

pub const ROW_HEIGHT: f32 = 22.0;
const SIZE_W: f32 = 90.0;
const MODIFIED_W: f32 = 150.0;
const CLASS_W: f32 = 110.0;

pub fn buckets_ui(
    ui: &mut egui::Ui,
    buckets: &Loadable<Vec<BucketInfo>>,
    current: Option<&str>,
) -> Option<BrowserAction> {
    let mut action = None;
    ui.strong("Buckets");
    ui.add_space(4.0);
    match buckets {
        Loadable::Idle => {}
        Loadable::Loading => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Loading…");
            });
        }
        Loadable::Failed(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e.message());
        }
        Loadable::Ready(list) if list.is_empty() => {
            ui.weak("No buckets");
        }
        Loadable::Ready(list) => {
            egui::ScrollArea::vertical()
                .id_salt("buckets")
                .show(ui, |ui| {
                    for b in list {
                        let selected = current == Some(b.name.as_str());
                        if ui
                            .selectable_label(selected, format!("🗀 {}", b.name))
                            .clicked()
                        {
                            action = Some(BrowserAction::OpenBucket(b.name.clone()));
                        }
                    }
                });
        }
    }
    action
}

/// `bucket / folder / sub /` as buttons.
pub fn breadcrumbs_ui(ui: &mut egui::Ui, listing: &Listing) -> Option<BrowserAction> {
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        if ui
            .button(&listing.bucket)
            .on_hover_text("The bucket's top level")
            .clicked()
        {
            action = Some(BrowserAction::GoTo(String::new()));
        }
        let mut prefix = String::new();
        for part in listing.prefix.split_terminator('/') {
            prefix.push_str(part);
            prefix.push('/');
            ui.label("›");
            if ui.button(part).clicked() {
                action = Some(BrowserAction::GoTo(prefix.clone()));
            }
        }
    });
    action
}

/// The parent of a prefix: `a/b/` → `a/`; `a/` → the bucket's root (empty).
pub fn parent(prefix: &str) -> String {
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    match trimmed.rfind('/') {
        Some(i) => trimmed[..=i].to_owned(),
        None => String::new(),
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "the table: header, rows, menus and keys in one place"
)]
pub fn browser_ui(ui: &mut egui::Ui, listing: &mut Listing) -> Vec<BrowserAction> {
    let mut actions = Vec::new();
    listing.refresh_view(std::time::Instant::now());

    // Keys, when no text field has the keyboard.
    // Nor while a dialog has the window (it disables what is behind it).
    let typing = ui.ctx().memory(|m| m.focused().is_some()) || !ui.is_enabled();
    let mut keyboard_moved = false;
    if !typing {
        let (down, up, page_down, page_up, home, end, enter, back, all, del, shift) =
            ui.input(|i| {
                (
                    i.key_pressed(Key::ArrowDown),
                    i.key_pressed(Key::ArrowUp),
                    i.key_pressed(Key::PageDown),
                    i.key_pressed(Key::PageUp),
                    i.key_pressed(Key::Home),
                    i.key_pressed(Key::End),
                    i.key_pressed(Key::Enter),
                    i.key_pressed(Key::Backspace),
                    i.modifiers.command && i.key_pressed(Key::A),
                    i.key_pressed(Key::Delete),
                    i.modifiers.shift,
                )
            });
        let page = listing
            .visible
            .1
            .saturating_sub(listing.visible.0)
            .max(2)
            .cast_signed()
            - 1;
        for (pressed, delta) in [
            (down, 1),
            (up, -1),
            (page_down, page),
            (page_up, -page),
            (home, isize::MIN / 2),
            (end, isize::MAX / 2),
        ] {
            if pressed {
                listing.move_cursor(delta, shift);
                keyboard_moved = true;
            }
        }
        if all {
            listing.select_all();
        }
        if enter && let Some(row) = listing.cursor_row() {
            actions.push(open_action(listing, row.key.clone(), row.folder));
        }
        if back && !listing.prefix.is_empty() {
            actions.push(BrowserAction::GoTo(parent(&listing.prefix)));
        }
        if del {
            let objects = selected_objects(listing);
            if !objects.is_empty() {
                actions.push(BrowserAction::Delete(objects));
            }
        }
        // Ctrl+C (the desktop turns it into Copy): what Copy link does, one link per line.
        let copy = ui.input(|i| {
            i.events.iter().any(|e| matches!(e, egui::Event::Copy))
                || (i.modifiers.command && i.key_pressed(Key::C))
        });
        if copy {
            let objects = selected_objects(listing);
            if !objects.is_empty() {
                actions.push(BrowserAction::CopyLinks(objects));
            }
        }
    }

    // Header: click to sort, again to reverse.
    let arrow = |c: Column| {
        if listing.sort == c {
            if listing.ascending { " ⏶" } else { " ⏷" }
        } else {
            ""
        }
    };
    let mut sort_clicked = None;
    let (header, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
    let name_w = (header.width() - SIZE_W - MODIFIED_W - CLASS_W - 24.0).max(120.0);
    let mut x = header.left();
    for (column, title, width, align) in [
        (Column::Name, "Name", name_w, egui::Align2::LEFT_CENTER),
        (Column::Size, "Size", SIZE_W, egui::Align2::RIGHT_CENTER),
        (
            Column::Modified,
            "Modified",
            MODIFIED_W,
            egui::Align2::LEFT_CENTER,
        ),
        (
            Column::StorageClass,
            "Storage class",
            CLASS_W,
            egui::Align2::LEFT_CENTER,
        ),
    ] {
        // The same x positions as the rows' text, so the columns line up.
        let rect =
            egui::Rect::from_min_size(egui::pos2(x, header.top()), egui::vec2(width, ROW_HEIGHT));
        x += width;
        let text = format!("{title}{}", arrow(column));
        let response = ui
            .interact(rect, ui.scope_id().with(("header", title)), Sense::click())
            .on_hover_text(format!("Sort by {}", title.to_lowercase()));
        let label = text.clone();
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        let color = if response.hovered() {
            ui.visuals().strong_text_color()
        } else {
            ui.visuals().text_color()
        };
        let pos = if align == egui::Align2::RIGHT_CENTER {
            egui::pos2(rect.right() - 12.0, rect.center().y)
        } else {
            egui::pos2(rect.left() + 4.0, rect.center().y)
        };
        ui.painter().text(
            pos,
            align,
            text,
            egui::TextStyle::Button.resolve(ui.style()),
            color,
        );
        if response.clicked() {
            sort_clicked = Some(column);
        }
    }
    if let Some(c) = sort_clicked {
        listing.sort_by(c);
    }
    ui.separator();

    if listing.rows.is_empty() {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            if let Some(e) = &listing.error {
                ui.colored_label(ui.visuals().error_fg_color, e.message());
                if let Some(d) = e.detail() {
                    ui.weak(d);
                }
            } else if listing.done {
                ui.weak("This folder is empty. Drop files here to upload them.");
            } else {
                ui.spinner();
                ui.label("Listing…");
            }
        });
        return actions;
    }

    let total = listing.view.len();
    let mut scroll = egui::ScrollArea::vertical()
        .id_salt(("listing", listing.generation))
        .auto_shrink([false, false]);
    if keyboard_moved && let Some(c) = listing.cursor {
        let (first, last) = listing.visible;
        let spacing = ui.spacing().item_spacing.y;
        let step = ROW_HEIGHT + spacing;
        if c < first + 1 {
            scroll = scroll.vertical_scroll_offset(c as f32 * step);
        } else if c + 2 >= last {
            let rows_in_view = last.saturating_sub(first).saturating_sub(2) as f32;
            scroll =
                scroll.vertical_scroll_offset(((c as f32 + 1.0) - rows_in_view).max(0.0) * step);
        }
    }
    let selection_bg = ui.visuals().selection.bg_fill;
    let stripe = ui.visuals().faint_bg_color;
    let text_color = ui.visuals().text_color();
    let weak_color = ui.visuals().weak_text_color();
    let font = egui::TextStyle::Body.resolve(ui.style());
    let now = time::OffsetDateTime::now_utc();
    let mut menu_action = None;
    let mut clicked = None;
    let mut opened = None;
    let out = scroll.show_rows(ui, ROW_HEIGHT, total, |ui, range| {
        for pos in range.clone() {
            let index = listing.view[pos];
            let row = &listing.rows[index as usize];
            let selected = listing.selected.contains(&index);
            let (rect, _) = ui
                .allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::hover());
            let id = ui.scope_id().with(("row", &row.key));
            let response = ui.interact(rect, id, Sense::click());
            let label = row.name.clone();
            response.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label)
            });
            let painter = ui.painter_at(rect);
            if selected {
                painter.rect_filled(rect, 2.0, selection_bg);
            } else if response.hovered() {
                painter.rect_filled(rect, 2.0, ui.visuals().widgets.hovered.weak_bg_fill);
            } else if pos % 2 == 1 {
                painter.rect_filled(rect, 0.0, stripe);
            }
            let y = rect.center().y;
            let mut x = rect.left() + 4.0;
            let icon = if row.folder { "🗀 " } else { "🗋 " };
            let name_rect = egui::Rect::from_min_max(
                egui::pos2(x, rect.top()),
                egui::pos2(x + name_w - 8.0, rect.bottom()),
            );
            ui.painter_at(name_rect).text(
                egui::pos2(x, y),
                egui::Align2::LEFT_CENTER,
                format!("{icon}{}", row.name),
                font.clone(),
                text_color,
            );
            x += name_w;
            let size = if row.folder {
                String::new()
            } else {
                human_size(row.size)
            };
            painter.text(
                egui::pos2(x + SIZE_W - 12.0, y),
                egui::Align2::RIGHT_CENTER,
                size,
                font.clone(),
                text_color,
            );
            x += SIZE_W;
            let modified = row
                .modified
                .map(|m| format_modified(now, m))
                .unwrap_or_default();
            painter.text(
                egui::pos2(x, y),
                egui::Align2::LEFT_CENTER,
                modified,
                font.clone(),
                weak_color,
            );
            x += MODIFIED_W;
            painter.text(
                egui::pos2(x, y),
                egui::Align2::LEFT_CENTER,
                row.storage_class.as_deref().unwrap_or_default(),
                font.clone(),
                weak_color,
            );

            let m = ui.input(|i| i.modifiers);
            let plain = !m.command && !m.shift;
            if response.double_clicked() || (response.clicked() && plain && row.folder) {
                // Folders open on a click, as in the S3 console; objects share on a double click.
                opened = Some((row.key.clone(), row.folder));
            } else if response.clicked() {
                clicked = Some((pos, m.command, m.shift));
            }
            if response.secondary_clicked() && !selected {
                clicked = Some((pos, false, false));
            }
            let folder = row.folder;
            response.context_menu(|ui| {
                if let Some(a) = row_menu(ui, listing, index, folder) {
                    menu_action = Some(a);
                    ui.close();
                }
            });
        }
        range
    });
    let range = out.inner;
    listing.visible = (range.start, range.end);
    if let Some((pos, toggle, shift)) = clicked {
        listing.click(pos, toggle, shift);
    }
    if let Some((key, folder)) = opened {
        actions.push(open_action(listing, key, folder));
    }
    actions.extend(menu_action);

    // Ask for more rows before the user reaches the end of what is loaded; everything when
    // sorting by another column or filtering (those need the whole level).
    if !listing.done && listing.more {
        let whole =
            !listing.filter.is_empty() || listing.sort != Column::Name || !listing.ascending;
        let want = if whole {
            usize::MAX
        } else if range.end + FIRST_ROWS / 2 > listing.rows.len() {
            listing.rows.len() + FIRST_ROWS
        } else {
            0
        };
        if want > listing.wanted {
            listing.wanted = want;
            actions.push(BrowserAction::Want(want));
        }
    }
    actions
}

/// The context menu of a row (the row was selected when the menu opened).
fn row_menu(
    ui: &mut egui::Ui,
    listing: &Listing,
    index: u32,
    folder: bool,
) -> Option<BrowserAction> {
    let objects = selected_objects(listing);
    let items = selected_items(listing);
    let row = &listing.rows[index as usize];
    if folder {
        if ui.button("Open").clicked() {
            return Some(BrowserAction::GoTo(row.key.clone()));
        }
    } else if items.len() == 1 && ui.button("Share…").clicked() {
        return Some(BrowserAction::Share(S3Uri::new(
            listing.bucket.clone(),
            row.key.clone(),
        )));
    }
    if (folder || items.len() > 1) && ui.button(page_button_label(items.len())).clicked() {
        return Some(BrowserAction::SharePage(
            items
                .iter()
                .map(|k| S3Uri::new(listing.bucket.clone(), k.clone()))
                .collect(),
        ));
    }
    let plural = |n: usize| {
        if n == 1 {
            String::new()
        } else {
            format!(" ({n})")
        }
    };
    let n = objects.len();
    if n > 0 && ui.button(format!("Copy link{}", plural(n))).clicked() {
        return Some(BrowserAction::CopyLinks(objects));
    }
    if !items.is_empty()
        && ui
            .button(format!("Download…{}", plural(items.len())))
            .clicked()
    {
        return Some(BrowserAction::Download(items));
    }
    if n > 0 && ui.button(format!("Delete…{}", plural(n))).clicked() {
        return Some(BrowserAction::Delete(objects));
    }
    ui.separator();
    if ui.button("New folder…").clicked() {
        return Some(BrowserAction::NewFolder);
    }
    if ui.button("Refresh").clicked() {
        return Some(BrowserAction::Refresh);
    }
    None
}

fn open_action(listing: &Listing, key: String, folder: bool) -> BrowserAction {
    if folder {
        BrowserAction::GoTo(key)
    } else {
        BrowserAction::Share(S3Uri::new(listing.bucket.clone(), key))
    }
}

/// The selected rows' keys, folders included (a folder downloads everything under it).
pub fn selected_items(listing: &Listing) -> Vec<String> {
    listing
        .selected_rows()
        .into_iter()
        .map(|r| r.key.clone())
        .collect()
}

/// "Share as a page…", or "Share as one page (3)…" for several.
pub fn page_button_label(items: usize) -> String {
    if items > 1 {
        format!("Share as one page ({items})…")
    } else {
        "Share as a page…".to_owned()
    }
}

/// The selected objects (folders are left out: links and deletes are per object).
pub fn selected_objects(listing: &Listing) -> Vec<S3Uri> {
    listing
        .selected_rows()
        .into_iter()
        .filter(|r| !r.folder)
        .map(|r| S3Uri::new(listing.bucket.clone(), r.key.clone()))
        .collect()
}
