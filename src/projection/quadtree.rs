//! A Barnes-Hut quadtree over 2-D points for t-SNE's repulsive forces.

/// Leaves stop splitting below this cell half-width or depth (duplicate points share a leaf).
const MIN_HALF_WIDTH: f64 = 1e-9;
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Half the side of the square cell.
    half_width: f64,
    /// Centre of mass of the points below.
    com: [f64; 2],
    /// Points below.
    count: u32,
    /// Index of the first of four children, 0 for a leaf.
    first_child: u32,
    /// A leaf's points are `order[start..end]`.
    start: u32,
    end: u32,
}

/// The tree over one embedding (`[n, 2]` row-major coordinates).
pub(crate) struct QuadTree<'a> {
    points: &'a [f64],
    nodes: Vec<Node>,
    order: Vec<u32>,
}

impl<'a> QuadTree<'a> {
    /// Builds the tree over `points` (`x0, y0, x1, y1, ...`).
    pub(crate) fn new(points: &'a [f64]) -> Self {
        let n = points.len() / 2;
        let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in points.chunks_exact(2) {
            for a in 0..2 {
                min[a] = min[a].min(p[a]);
                max[a] = max[a].max(p[a]);
            }
        }
        let centre = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
        let half_width =
            ((max[0] - min[0]).max(max[1] - min[1]) / 2.0).max(MIN_HALF_WIDTH) * 1.0001;
        let mut tree = Self {
            points,
            nodes: Vec::with_capacity(2 * n + 1),
            order: (0..n as u32).collect(),
        };
        tree.nodes.push(Node {
            half_width,
            com: [0.0; 2],
            count: 0,
            first_child: 0,
            start: 0,
            end: n as u32,
        });
        tree.build(0, centre, 0);
        tree
    }

    fn build(&mut self, node: usize, centre: [f64; 2], depth: usize) {
        let Node {
            start,
            end,
            half_width,
            ..
        } = self.nodes[node];
        let (start, end) = (start as usize, end as usize);
        let mut com = [0.0; 2];
        for &i in &self.order[start..end] {
            com[0] += self.points[2 * i as usize];
            com[1] += self.points[2 * i as usize + 1];
        }
        let count = end - start;
        if count > 0 {
            com = [com[0] / count as f64, com[1] / count as f64];
        }
        self.nodes[node].com = com;
        self.nodes[node].count = count as u32;
        if count <= 1 || half_width < MIN_HALF_WIDTH || depth >= MAX_DEPTH {
            return;
        }
        // Partition by y, then each half by x: quadrants (low y, low x), (low y, high x), ...
        let points = self.points;
        let slice = &mut self.order[start..end];
        let mid_y = partition(slice, |i| points[2 * i as usize + 1] < centre[1]);
        let (low, high) = slice.split_at_mut(mid_y);
        let mid_x_low = partition(low, |i| points[2 * i as usize] < centre[0]);
        let mid_x_high = partition(high, |i| points[2 * i as usize] < centre[0]);
        let bounds = [
            start,
            start + mid_x_low,
            start + mid_y,
            start + mid_y + mid_x_high,
            end,
        ];
        let first_child = self.nodes.len();
        self.nodes[node].first_child = first_child as u32;
        let quarter = half_width / 2.0;
        for q in 0..4 {
            self.nodes.push(Node {
                half_width: quarter,
                com: [0.0; 2],
                count: 0,
                first_child: 0,
                start: bounds[q] as u32,
                end: bounds[q + 1] as u32,
            });
        }
        for q in 0..4 {
            let dx = if q % 2 == 0 { -quarter } else { quarter };
            let dy = if q < 2 { -quarter } else { quarter };
            self.build(first_child + q, [centre[0] + dx, centre[1] + dy], depth + 1);
        }
    }

    /// Repulsion on point `i`: returns `(sum_j w_ij^2 (y_i - y_j), sum_j w_ij)` over all
    /// `j != i`, with `w_ij = 1 / (1 + |y_i - y_j|^2)`, cells summarised when
    /// `cell width / distance < theta`.
    pub(crate) fn repulsion(&self, i: usize, theta: f64) -> ([f64; 2], f64) {
        let y = [self.points[2 * i], self.points[2 * i + 1]];
        let theta2 = theta * theta;
        let mut force = [0.0; 2];
        let mut sum_w = 0.0;
        let mut stack = vec![0usize];
        while let Some(index) = stack.pop() {
            let node = &self.nodes[index];
            if node.count == 0 {
                continue;
            }
            let d = [y[0] - node.com[0], y[1] - node.com[1]];
            let d2 = d[0] * d[0] + d[1] * d[1];
            let width = 2.0 * node.half_width;
            if node.first_child == 0 {
                for &j in &self.order[node.start as usize..node.end as usize] {
                    let j = j as usize;
                    if j == i {
                        continue;
                    }
                    let dj = [y[0] - self.points[2 * j], y[1] - self.points[2 * j + 1]];
                    let w = 1.0 / (1.0 + dj[0] * dj[0] + dj[1] * dj[1]);
                    sum_w += w;
                    force[0] += w * w * dj[0];
                    force[1] += w * w * dj[1];
                }
            } else if width * width < theta2 * d2 {
                let w = 1.0 / (1.0 + d2);
                let mass = f64::from(node.count);
                sum_w += mass * w;
                force[0] += mass * w * w * d[0];
                force[1] += mass * w * w * d[1];
            } else {
                let first = node.first_child as usize;
                stack.extend(first..first + 4);
            }
        }
        (force, sum_w)
    }
}

/// Moves the items where `left` holds to the front; returns how many.
fn partition(items: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let mut next = 0;
    for k in 0..items.len() {
        if left(items[k]) {
            items.swap(next, k);
            next += 1;
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(points: &[f64], i: usize) -> ([f64; 2], f64) {
        let (mut f, mut s) = ([0.0; 2], 0.0);
        for j in 0..points.len() / 2 {
            if j != i {
                let d = [
                    points[2 * i] - points[2 * j],
                    points[2 * i + 1] - points[2 * j + 1],
                ];
                let w = 1.0 / (1.0 + d[0] * d[0] + d[1] * d[1]);
                s += w;
                f[0] += w * w * d[0];
                f[1] += w * w * d[1];
            }
        }
        (f, s)
    }

    #[test]
    fn theta_zero_is_exact_and_theta_half_is_close() {
        let mut rng = crate::rng::SplitMix64::new(5);
        let mut points: Vec<f64> = rng
            .normals(2 * 500, 3.0)
            .into_iter()
            .map(f64::from)
            .collect();
        // Duplicates must not break the tree.
        points[2] = points[0];
        points[3] = points[1];
        let tree = QuadTree::new(&points);
        for i in [0, 1, 17, 499] {
            let (f, s) = exact(&points, i);
            let (f0, s0) = tree.repulsion(i, 0.0);
            assert!((s0 - s).abs() < 1e-9 * s && (f0[0] - f[0]).abs() < 1e-9);
            let (f5, s5) = tree.repulsion(i, 0.5);
            assert!((s5 - s).abs() < 0.02 * s, "{s5} vs {s}");
            let norm = (f[0] * f[0] + f[1] * f[1]).sqrt();
            assert!((f5[0] - f[0]).abs() < 0.05 * norm + 1e-6);
        }
    }
}
