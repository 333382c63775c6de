//! Queue order for the in-memory backend: which sequence numbers are still waiting, with
//! O(log N) rank queries (a Fenwick tree over sequence numbers offset by a moving base).

/// Alive flags for a window of consecutive sequence numbers, with prefix counts.
#[derive(Debug, Default)]
pub(crate) struct OrderIndex {
    /// Sequence number stored at offset 0.
    base: u64,
    alive: Vec<bool>,
    /// 1-based Fenwick tree over `alive`.
    tree: Vec<i64>,
    len: usize,
}

impl OrderIndex {
    /// Number of sequence numbers currently waiting.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Marks `seq` as waiting. Sequence numbers arrive in increasing order.
    pub(crate) fn insert(&mut self, seq: u64) {
        if self.alive.is_empty() && self.len == 0 {
            self.base = seq;
        }
        if seq < self.base {
            return;
        }
        if (seq - self.base) as usize >= self.alive.len() {
            self.grow(seq);
        }
        let at = (seq - self.base) as usize;
        if !self.alive[at] {
            self.alive[at] = true;
            self.add(at, 1);
            self.len += 1;
        }
    }

    /// Marks `seq` as no longer waiting.
    pub(crate) fn remove(&mut self, seq: u64) {
        let Some(at) = self.offset(seq) else { return };
        if self.alive[at] {
            self.alive[at] = false;
            self.add(at, -1);
            self.len -= 1;
        }
    }

    /// How many waiting sequence numbers are smaller than `seq`.
    pub(crate) fn rank(&self, seq: u64) -> usize {
        match self.offset(seq) {
            Some(at) => self.prefix(at) as usize,
            None if seq < self.base => 0,
            None => self.len,
        }
    }

    fn offset(&self, seq: u64) -> Option<usize> {
        let at = seq.checked_sub(self.base)? as usize;
        (at < self.alive.len()).then_some(at)
    }

    /// Count of alive entries at offsets `< at`.
    fn prefix(&self, at: usize) -> i64 {
        let mut sum = 0;
        let mut i = at;
        while i > 0 {
            sum += self.tree[i];
            i &= i - 1;
        }
        sum
    }

    fn add(&mut self, at: usize, delta: i64) {
        let mut i = at + 1;
        while i < self.tree.len() {
            self.tree[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Makes room for `seq`: drops the finished prefix and doubles the capacity when needed.
    /// Rebuilding is O(capacity) but happens only when the capacity is exhausted.
    fn grow(&mut self, seq: u64) {
        let first_alive = self
            .alive
            .iter()
            .position(|&a| a)
            .unwrap_or(self.alive.len());
        let kept: Vec<bool> = self.alive[first_alive..].to_vec();
        let new_base = if kept.is_empty() {
            seq
        } else {
            self.base + first_alive as u64
        };
        let needed = (seq - new_base) as usize + 1;
        let capacity = needed.max(kept.len() * 2).max(64).next_power_of_two();
        let mut alive = kept;
        alive.resize(capacity, false);
        let mut tree = vec![0i64; capacity + 1];
        for (i, &a) in alive.iter().enumerate() {
            tree[i + 1] += i64::from(a);
            let parent = (i + 1) + ((i + 1) & (i + 1).wrapping_neg());
            if parent <= capacity {
                tree[parent] += tree[i + 1];
            }
        }
        self.base = new_base;
        self.alive = alive;
        self.tree = tree;
    }
}

#[cfg(test)]
mod tests {
    use super::OrderIndex;

    #[test]
    fn ranks_follow_removals_across_growth() {
        let mut index = OrderIndex::default();
        let mut model: Vec<u64> = Vec::new();
        for seq in 1..=5000u64 {
            index.insert(seq);
            model.push(seq);
            if seq % 3 == 0 {
                let victim = model.remove(model.len() / 2);
                index.remove(victim);
            }
            if seq % 7 == 0 && !model.is_empty() {
                let head = model.remove(0);
                index.remove(head);
            }
        }
        assert_eq!(index.len(), model.len());
        for (rank, &seq) in model.iter().enumerate() {
            assert_eq!(index.rank(seq), rank, "seq {seq}");
        }
    }
}
