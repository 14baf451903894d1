//! The fast conv2d-backward and batch-norm-train kernels of the vendored
//! burn-flex (vendor/burn-flex, PATCHES.md) against burn-backend's generic
//! default implementations (`burn_flex::ops::reference`) and a naive f64
//! reference, plus bit-identical results for 1, 2 and 3 rayon threads (the
//! workspace builds burn-flex with rayon).
#![allow(missing_docs)]

use burn_backend::ops::{ConvOptions, ModuleOps};
use burn_backend::TensorData;
use burn_flex::ops::reference;
use burn_flex::{Flex, FlexTensor};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        // xorshift64*, mapped to [-1, 1)
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        (v as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize, offset: f32, scale: f32) -> Vec<f32> {
        (0..n).map(|_| offset + scale * self.next()).collect()
    }
}

fn tensor(data: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape.to_vec()))
}

fn values(t: FlexTensor) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 tensor")
}

fn shape(t: &FlexTensor) -> Vec<usize> {
    t.layout().shape().to_vec()
}

/// Max abs difference, relative to max(1, max |reference|).
fn rel_err(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
        / scale
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    let e = rel_err(got, want);
    assert!(e <= 1e-4, "{what}: relative max error {e:e}");
}

#[derive(Clone, Debug)]
struct Case {
    n: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    /// `[(top, bottom), (left, right)]`
    padding: [(usize, usize); 2],
    dilation: [usize; 2],
    groups: usize,
}

impl Case {
    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new_with_padding(self.stride, self.padding, self.dilation, self.groups)
    }

    fn out(&self) -> [usize; 2] {
        let o = |i: usize, size: usize| {
            let (b, e) = self.padding[i];
            (size + b + e - self.dilation[i] * (self.k[i] - 1) - 1) / self.stride[i] + 1
        };
        [o(0, self.h), o(1, self.w)]
    }
}

#[allow(clippy::too_many_arguments)]
fn case(
    n: usize,
    cin: usize,
    cout: usize,
    hw: [usize; 2],
    k: [usize; 2],
    stride: [usize; 2],
    padding: [(usize, usize); 2],
    dilation: [usize; 2],
    groups: usize,
) -> Case {
    Case {
        n,
        cin,
        cout,
        h: hw[0],
        w: hw[1],
        k,
        stride,
        padding,
        dilation,
        groups,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // pointwise 1x1 (gemm, no im2col)
        case(2, 5, 7, [9, 6], [1, 1], [1, 1], [(0, 0); 2], [1, 1], 1),
        case(1, 16, 8, [7, 13], [1, 1], [1, 1], [(0, 0); 2], [1, 1], 1),
        // depthwise
        case(3, 6, 6, [11, 7], [3, 3], [1, 1], [(1, 1); 2], [1, 1], 6),
        case(2, 4, 4, [13, 9], [3, 3], [2, 2], [(1, 1); 2], [1, 1], 4),
        case(2, 5, 5, [12, 10], [3, 3], [1, 1], [(2, 2); 2], [2, 2], 5),
        case(
            1,
            3,
            3,
            [10, 11],
            [3, 2],
            [2, 1],
            [(2, 0), (0, 3)],
            [1, 2],
            3,
        ),
        case(
            2,
            2,
            2,
            [17, 8],
            [10, 4],
            [2, 2],
            [(4, 5), (1, 2)],
            [1, 1],
            2,
        ),
        case(1, 1, 1, [5, 5], [5, 5], [1, 1], [(0, 0); 2], [1, 1], 1),
        case(2, 3, 3, [9, 8], [3, 3], [1, 1], [(0, 2), (3, 1)], [1, 2], 3),
        case(
            1,
            4,
            4,
            [6, 15],
            [2, 5],
            [1, 1],
            [(1, 0), (0, 0)],
            [3, 1],
            4,
        ),
        case(3, 2, 2, [4, 3], [3, 3], [1, 1], [(1, 1); 2], [1, 1], 2),
        // general groups = 1 (im2col + gemm)
        case(
            3,
            1,
            8,
            [21, 12],
            [10, 4],
            [2, 2],
            [(4, 5), (1, 2)],
            [1, 1],
            1,
        ),
        case(2, 3, 4, [11, 9], [3, 3], [2, 2], [(1, 1); 2], [2, 2], 1),
        case(1, 4, 5, [8, 7], [1, 1], [2, 2], [(0, 0); 2], [1, 1], 1),
        case(
            2,
            3,
            2,
            [9, 10],
            [2, 3],
            [1, 2],
            [(0, 1), (2, 0)],
            [1, 1],
            1,
        ),
        case(5, 2, 3, [7, 5], [3, 3], [1, 1], [(1, 1); 2], [1, 1], 1),
        case(2, 3, 3, [6, 6], [1, 1], [1, 1], [(1, 0), (0, 1)], [1, 1], 1),
        // grouped, not depthwise: falls back to the default
        case(2, 4, 6, [7, 6], [3, 3], [1, 1], [(1, 1); 2], [1, 1], 2),
    ]
}

struct ConvData {
    x: Vec<f32>,
    w: Vec<f32>,
    g: Vec<f32>,
    xs: [usize; 4],
    ws: [usize; 4],
    gs: [usize; 4],
}

fn conv_data(c: &Case, seed: u64) -> ConvData {
    let mut rng = Rng(seed);
    let [oh, ow] = c.out();
    let xs = [c.n, c.cin, c.h, c.w];
    let ws = [c.cout, c.cin / c.groups, c.k[0], c.k[1]];
    let gs = [c.n, c.cout, oh, ow];
    ConvData {
        x: rng.vec(xs.iter().product(), 0.0, 1.0),
        w: rng.vec(ws.iter().product(), 0.0, 0.5),
        g: rng.vec(gs.iter().product(), 0.0, 1.0),
        xs,
        ws,
        gs,
    }
}

/// Naive f64 conv2d backward straight from the definition: `(dx, dw, db)`.
#[allow(clippy::needless_range_loop)]
fn naive_backward(c: &Case, d: &ConvData) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [oh, ow] = c.out();
    let cpg = c.cin / c.groups;
    let opg = c.cout / c.groups;
    let mut dx = vec![0.0f64; d.x.len()];
    let mut dw = vec![0.0f64; d.w.len()];
    let mut db = vec![0.0f64; c.cout];
    for b in 0..c.n {
        for co in 0..c.cout {
            let grp = co / opg;
            for o in 0..oh {
                for q in 0..ow {
                    let gv = d.g[((b * c.cout + co) * oh + o) * ow + q] as f64;
                    db[co] += gv;
                    for cl in 0..cpg {
                        let ci = grp * cpg + cl;
                        for ki in 0..c.k[0] {
                            let ih = (o * c.stride[0] + ki * c.dilation[0]) as isize
                                - c.padding[0].0 as isize;
                            if ih < 0 || ih >= c.h as isize {
                                continue;
                            }
                            for kj in 0..c.k[1] {
                                let iw = (q * c.stride[1] + kj * c.dilation[1]) as isize
                                    - c.padding[1].0 as isize;
                                if iw < 0 || iw >= c.w as isize {
                                    continue;
                                }
                                let xi = ((b * c.cin + ci) * c.h + ih as usize) * c.w + iw as usize;
                                let wi = ((co * cpg + cl) * c.k[0] + ki) * c.k[1] + kj;
                                dx[xi] += d.w[wi] as f64 * gv;
                                dw[wi] += d.x[xi] as f64 * gv;
                            }
                        }
                    }
                }
            }
        }
    }
    let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
    (f(dx), f(dw), f(db))
}

fn fast_backward(c: &Case, d: &ConvData) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = || tensor(d.x.clone(), &d.xs);
    let w = || tensor(d.w.clone(), &d.ws);
    let g = || tensor(d.g.clone(), &d.gs);
    let bias = tensor(vec![0.0; c.cout], &[c.cout]);
    let dx = Flex::conv2d_x_backward(x(), w(), g(), c.options());
    let dw = Flex::conv2d_weight_backward(x(), w(), g(), c.options());
    let db = Flex::conv2d_bias_backward(x(), bias, g());
    assert_eq!(shape(&dx), d.xs.to_vec());
    assert_eq!(shape(&dw), d.ws.to_vec());
    assert_eq!(shape(&db), vec![c.cout]);
    (values(dx), values(dw), values(db))
}

fn default_backward(c: &Case, d: &ConvData) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let x = || tensor(d.x.clone(), &d.xs);
    let w = || tensor(d.w.clone(), &d.ws);
    let g = || tensor(d.g.clone(), &d.gs);
    let bias = tensor(vec![0.0; c.cout], &[c.cout]);
    let dx = reference::conv2d_x_backward::<Flex>(x(), w(), g(), c.options());
    let dw = reference::conv2d_weight_backward::<Flex>(x(), w(), g(), c.options());
    let db = reference::conv2d_bias_backward::<Flex>(x(), bias, g());
    (values(dx), values(dw), values(db))
}

#[test]
fn conv2d_backward_matches_default_and_naive() {
    for (i, c) in cases().iter().enumerate() {
        let d = conv_data(c, 1000 + i as u64);
        // The case's output size must be what the forward conv produces.
        let y = Flex::conv2d(
            tensor(d.x.clone(), &d.xs),
            tensor(d.w.clone(), &d.ws),
            None,
            c.options(),
        );
        assert_eq!(shape(&y), d.gs.to_vec(), "forward shape, case {c:?}");

        let (fx, fw, fb) = fast_backward(c, &d);
        let (rx, rw, rb) = default_backward(c, &d);
        let (nx, nw, nb) = naive_backward(c, &d);
        for (what, got, want) in [
            ("x grad vs default", &fx, &rx),
            ("weight grad vs default", &fw, &rw),
            ("bias grad vs default", &fb, &rb),
            ("x grad vs naive", &fx, &nx),
            ("weight grad vs naive", &fw, &nw),
            ("bias grad vs naive", &fb, &nb),
        ] {
            assert_close(&format!("case {i} {c:?}: {what}"), got, want);
        }
    }
}

struct BnData {
    x: Vec<f32>,
    g: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    shape: Vec<usize>,
    c: usize,
}

fn bn_data(shape: &[usize], offset: f32, seed: u64) -> BnData {
    let mut rng = Rng(seed);
    let n: usize = shape.iter().product();
    let c = shape[1];
    BnData {
        x: rng.vec(n, offset, 2.0),
        g: rng.vec(n, 0.0, 1.0),
        gamma: rng.vec(c, 1.0, 0.5),
        beta: rng.vec(c, 0.0, 0.5),
        shape: shape.to_vec(),
        c,
    }
}

type BnOut = [Vec<f32>; 6];

fn bn_fast(d: &BnData) -> BnOut {
    let eps = 1e-5;
    let fwd = Flex::batch_norm_train(
        tensor(d.x.clone(), &d.shape),
        tensor(d.gamma.clone(), &[d.c]),
        tensor(d.beta.clone(), &[d.c]),
        eps,
    );
    let (mean, var) = (values(fwd.mean.clone()), values(fwd.variance.clone()));
    let bwd = Flex::batch_norm_train_backward(
        tensor(d.x.clone(), &d.shape),
        tensor(d.gamma.clone(), &[d.c]),
        fwd.mean,
        fwd.variance,
        eps,
        tensor(d.g.clone(), &d.shape),
    );
    assert_eq!(shape(&bwd.x_grad), d.shape);
    [
        values(fwd.output),
        mean,
        var,
        values(bwd.x_grad),
        values(bwd.gamma_grad),
        values(bwd.beta_grad),
    ]
}

fn bn_default(d: &BnData) -> BnOut {
    let eps = 1e-5;
    let fwd = reference::batch_norm_train::<Flex>(
        tensor(d.x.clone(), &d.shape),
        tensor(d.gamma.clone(), &[d.c]),
        tensor(d.beta.clone(), &[d.c]),
        eps,
    );
    let (mean, var) = (values(fwd.mean.clone()), values(fwd.variance.clone()));
    let bwd = reference::batch_norm_train_backward::<Flex>(
        tensor(d.x.clone(), &d.shape),
        tensor(d.gamma.clone(), &[d.c]),
        fwd.mean,
        fwd.variance,
        eps,
        tensor(d.g.clone(), &d.shape),
    );
    [
        values(fwd.output),
        mean,
        var,
        values(bwd.x_grad),
        values(bwd.gamma_grad),
        values(bwd.beta_grad),
    ]
}

#[test]
fn batch_norm_train_matches_default() {
    let shapes: [&[usize]; 5] = [
        &[4, 3, 5, 7],
        &[1, 6, 11, 3],
        &[16, 5],
        &[3, 4, 10],
        &[8, 16, 51, 20],
    ];
    for (i, s) in shapes.iter().enumerate() {
        for offset in [0.0, 3.0] {
            let d = bn_data(s, offset, 77 + i as u64);
            let fast = bn_fast(&d);
            let def = bn_default(&d);
            let names = [
                "output",
                "mean",
                "variance",
                "x grad",
                "gamma grad",
                "beta grad",
            ];
            for ((name, got), want) in names.iter().zip(&fast).zip(&def) {
                assert_close(&format!("{s:?} offset {offset}: {name}"), got, want);
            }
        }
    }
}

fn bits(v: &[Vec<f32>]) -> Vec<Vec<u32>> {
    v.iter()
        .map(|x| x.iter().map(|f| f.to_bits()).collect())
        .collect()
}

#[test]
fn kernels_are_bit_identical_across_thread_counts() {
    let conv_cases = [
        case(9, 16, 16, [21, 12], [3, 3], [1, 1], [(1, 1); 2], [1, 1], 16),
        case(9, 16, 24, [21, 12], [1, 1], [1, 1], [(0, 0); 2], [1, 1], 1),
        case(
            9,
            1,
            16,
            [41, 20],
            [10, 4],
            [2, 2],
            [(4, 5), (1, 2)],
            [1, 1],
            1,
        ),
        case(7, 5, 6, [13, 11], [3, 3], [2, 1], [(1, 1); 2], [1, 2], 1),
    ];
    let bn = bn_data(&[9, 16, 21, 12], 1.0, 5);
    let run = || {
        let mut out = Vec::new();
        for (i, c) in conv_cases.iter().enumerate() {
            let d = conv_data(c, 50 + i as u64);
            let (x, w, b) = fast_backward(c, &d);
            out.extend([x, w, b]);
        }
        out.extend(bn_fast(&bn));
        bits(&out)
    };
    let with_threads = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("thread pool")
            .install(run)
    };
    let one = with_threads(1);
    assert_eq!(one, with_threads(2), "1 vs 2 threads");
    assert_eq!(one, with_threads(3), "1 vs 3 threads");
    assert_eq!(one, run(), "repeat on the global pool");
}
