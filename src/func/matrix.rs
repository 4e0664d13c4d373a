//! [`Matrix`]: what [`super::jacobian`] and [`super::hessian`] return.

use core::fmt;
use core::ops::{Index, IndexMut};

/// A dense row-major matrix: `rows × cols` values, row `i` at
/// `i·cols .. (i + 1)·cols`.
///
/// ```
/// use dualtape::func::jacobian_rev;
///
/// // f(x) = x·Σx: J = diag(Σx) + x·1ᵀ
/// let j = jacobian_rev(|x| x * x.sum(), &[3.0, 4.0]);
/// assert_eq!((j.rows(), j.cols()), (2, 2));
/// assert_eq!(j[(0, 0)], 10.0);
/// assert_eq!(j.row(1), &[4.0, 11.0]);
/// assert_eq!(j.col(1), vec![3.0, 11.0]);
/// assert_eq!(j.to_rows(), vec![vec![10.0, 3.0], vec![4.0, 11.0]]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    /// Row-major values.
    data: Vec<T>,
}

impl<T: Copy> Matrix<T> {
    /// A `rows × cols` matrix of `fill`.
    pub(crate) fn filled(rows: usize, cols: usize, fill: T) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![fill; rows * cols],
        }
    }

    /// Number of rows (a Jacobian's outputs).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (a Jacobian's inputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i >= self.rows()`.
    #[track_caller]
    pub fn row(&self, i: usize) -> &[T] {
        assert!(
            i < self.rows,
            "dualtape: Matrix::row: row {i} of a matrix with {} rows",
            self.rows
        );
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i`, mutably.
    pub(crate) fn row_mut(&mut self, i: usize) -> &mut [T] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j`, copied out.
    ///
    /// # Panics
    /// If `j >= self.cols()`.
    #[track_caller]
    pub fn col(&self, j: usize) -> Vec<T> {
        assert!(
            j < self.cols,
            "dualtape: Matrix::col: column {j} of a matrix with {} columns",
            self.cols
        );
        (0..self.rows)
            .map(|i| self.data[i * self.cols + j])
            .collect()
    }

    /// Every value, row after row.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The rows as vectors.
    pub fn to_rows(&self) -> Vec<Vec<T>> {
        (0..self.rows).map(|i| self.row(i).to_vec()).collect()
    }

    /// The transpose.
    pub fn transpose(&self) -> Self {
        let mut t = Matrix {
            rows: self.cols,
            cols: self.rows,
            data: Vec::with_capacity(self.data.len()),
        };
        for j in 0..self.cols {
            t.data
                .extend((0..self.rows).map(|i| self.data[i * self.cols + j]));
        }
        t
    }
}

impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    /// The value at row `i`, column `j`.
    ///
    /// # Panics
    /// If `i` or `j` is out of range.
    #[track_caller]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "dualtape: Matrix: index ({i}, {j}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    /// The value at row `i`, column `j`, mutably.
    ///
    /// # Panics
    /// If `i` or `j` is out of range.
    #[track_caller]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(
            i < self.rows && j < self.cols,
            "dualtape: Matrix: index ({i}, {j}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

/// One row per line.
impl<T: fmt::Debug> fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for i in 0..self.rows {
            list.entry(&&self.data[i * self.cols..(i + 1) * self.cols]);
        }
        list.finish()
    }
}
