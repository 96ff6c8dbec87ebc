//! Length-sorted token batches, shared by embedding runs, feature stores and extraction.

/// fair-esm's `FastaBatchedDataset.get_batch_indices`: sort by length, then fill batches while
/// `longest * count <= toks_per_batch` (a longer sequence still gets a batch of its own).
pub fn batches_by_tokens(
    lengths: &[usize],
    toks_per_batch: usize,
    extra_per_seq: usize,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    pack_by_tokens(order, |i| lengths[i] + extra_per_seq, toks_per_batch)
}

/// Cuts `order` into consecutive batches, each as long as `longest size * count` stays within
/// `toks_per_batch` (padded tokens); an item over the budget gets a batch of its own.
pub fn pack_by_tokens(
    order: impl IntoIterator<Item = usize>,
    size: impl Fn(usize) -> usize,
    toks_per_batch: usize,
) -> Vec<Vec<usize>> {
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for i in order {
        let size = size(i);
        if !current.is_empty() && size.max(longest) * (current.len() + 1) > toks_per_batch {
            batches.push(std::mem::take(&mut current));
            longest = 0;
        }
        longest = longest.max(size);
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}
