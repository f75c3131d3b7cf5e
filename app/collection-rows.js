// The rows of a documents run: its session ranks the stage-1 candidates (session index = stage-1 position), and
// the list shows each row under its collection id with its source and stage-1 rank and score. Only relabelling:
// the order and every score still come from Python's view.

export class CollectionRows {
  /** `collection` is `start`'s {ids, sources, scores}, all by session index. */
  constructor({ ids, sources, scores }) {
    this.ids = ids;
    this.local = new Map(ids.map((id, i) => [id, i]));
    this.extras = ids.map((id, i) => ({
      was: `stage 1 #${i + 1}`,
      source: sources[i],
      data: { source: sources[i], stage1Rank: String(i + 1), stage1Score: String(scores[i]) },
    }));
  }

  /** View rows (display order, session indexes) as list rows under collection ids. */
  display(rows) {
    return rows.map((row, position) => row && {
      ...row,
      index: this.ids[row.index],
      changeVsOriginal: row.index - position,
      extra: this.extras[row.index],
    });
  }

  /** The session index of a collection id (-1 when that passage is not in this run). */
  localIndex(id) {
    return this.local.get(id) ?? -1;
  }
}
