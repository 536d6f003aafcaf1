// Windowed lists: only the rows in view exist in the page, so 1,000 sessions or a
// 10,000-event turn cost what 40 rows cost.
//
// Every row is ROW pixels high, except an opened one, which is ROW plus the height of
// what it shows (its JSON, say); the list knows those heights without measuring, so a
// row's place is arithmetic however long the list.

export const ROW = 24; // px, as --row in the stylesheet
export const LINE = 16; // px, a line of an opened row's text (.more in the stylesheet)
const MAX_LINES = 18; // an opened row shows at most this many lines and scrolls the rest

// The extra height of an opened row that shows `text`.
export function openHeight(text) {
  const lines = Math.min(MAX_LINES, text.split("\n").length);
  return lines * LINE + 20;
}

export class Rows {
  // `draw(item, index, opened)` makes a row; `key(item)` names an item across updates
  // (needed only by lists whose rows open).
  constructor(box, draw, key) {
    this.box = box;
    this.draw = draw;
    this.key = key || null;
    this.items = [];
    this.follow = false; // a list scrolled to its end stays at its end (a live turn)
    this.opened = new Map(); // key -> extra px
    this.extras = []; // [index, extra px] of the opened rows among the items, in order
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    box.replaceChildren(this.spacer);
    box.addEventListener("scroll", () => this.paint(), { passive: true });
  }

  set(items) {
    const box = this.box;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW;
    this.items = items;
    this.layout();
    if (atEnd && this.follow) box.scrollTop = box.scrollHeight;
    this.paint();
  }

  isOpen(item) {
    return this.key !== null && this.opened.has(this.key(item));
  }

  // Open a row (extra > 0) or close it (0).
  toggle(item, extra) {
    const name = this.key(item);
    if (this.opened.has(name) || !extra) this.opened.delete(name);
    else this.opened.set(name, extra);
    this.layout();
    this.paint();
  }

  closeAll() {
    if (!this.opened.size) return;
    this.opened.clear();
    this.layout();
  }

  layout() {
    this.extras = [];
    let total = this.items.length * ROW;
    if (this.opened.size) {
      this.items.forEach((item, index) => {
        const extra = this.opened.get(this.key(item));
        if (extra) {
          this.extras.push([index, extra]);
          total += extra;
        }
      });
    }
    this.spacer.style.height = total + "px";
  }

  top(index) {
    let y = index * ROW;
    for (const [at, extra] of this.extras) {
      if (at >= index) break;
      y += extra;
    }
    return y;
  }

  // The index of the row at height y.
  indexAt(y) {
    let shift = 0;
    for (const [at, extra] of this.extras) {
      const rowTop = at * ROW + shift;
      if (y < rowTop) break;
      if (y < rowTop + ROW + extra) return at;
      shift += extra;
    }
    return Math.floor((y - shift) / ROW);
  }

  paint() {
    const box = this.box;
    const first = Math.max(0, this.indexAt(box.scrollTop) - 5);
    const last = Math.min(this.items.length, this.indexAt(box.scrollTop + box.clientHeight) + 6);
    const rows = [];
    let y = this.top(first);
    for (let i = first; i < last; i++) {
      const item = this.items[i];
      const opened = this.isOpen(item);
      const row = this.draw(item, i, opened);
      row.classList.add("row");
      row.style.top = y + "px";
      const height = ROW + (opened ? this.opened.get(this.key(item)) : 0);
      if (opened) {
        row.classList.add("opened");
        row.style.height = height + "px";
      }
      y += height;
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }
}
