//! The Open Inference Protocol server over a real socket on 127.0.0.1 (port 0), with a
//! keyword-spotting package of freshly initialized weights and the 3-clip FSDD fixture of
//! `aic-data`. Every request has a 30 s timeout, so no test can hang.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aic_ml::builtin::{featurize_wavs, init_weights};
use aic_ml::infer::Predictor;
use aic_model::{fill_weights, ParamValue, Task, MANIFEST_FILE, WEIGHTS_FILE};
use aic_serve::oip::{ErrorBody, InferRequest, InferResponse, ModelMetadata};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(30);

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../aic-data/tests/data/fsdd")
}

/// A keyword-spotting package directory with small, untrained weights and `max_batch`.
fn kws_dir(dir: &Path, max_batch: u32) {
    let mut m = aic_model::template(Task::KeywordSpotting);
    let arch = &mut m.parameters.architecture;
    arch.get_mut("channels").unwrap().default = ParamValue::Int(8);
    arch.get_mut("blocks").unwrap().default = ParamValue::Int(1);
    m.runtime.max_batch = max_batch;
    let weights = init_weights(&m, 11).unwrap();
    let text = fill_weights(&m.to_toml_string(), &weights).unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
}

/// A running server: its base URL; dropping it stops the server.
struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(models: Vec<Predictor>) -> Server {
    let app = aic_serve::router(models).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            aic_serve::serve(listener, app, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
    });
    let addr = addr_rx.recv_timeout(TIMEOUT).unwrap();
    Server {
        base: format!("http://{addr}"),
        stop: Some(tx),
        thread: Some(thread),
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(TIMEOUT).build()
}

/// Status and JSON body of a GET or POST.
fn call(url: &str, body: Option<&Value>) -> (u16, Value) {
    let a = agent();
    let r = match body {
        Some(b) => a.post(url).send_string(&b.to_string()),
        None => a.get(url).call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let status = resp.status();
    (
        status,
        serde_json::from_str(&resp.into_string().unwrap()).unwrap(),
    )
}

fn loaded(dir: &Path) -> (aic_ml::load::LoadedModel, Predictor) {
    let model = aic_ml::load::load_model(dir, None).unwrap();
    (model, aic_serve::load_predictor(dir).unwrap())
}

fn clips() -> Vec<Vec<u8>> {
    ["0_george_0.wav", "7_jackson_12.wav", "9_theo_28.wav"]
        .iter()
        .map(|n| std::fs::read(fixture().join(n)).unwrap())
        .collect()
}

#[test]
fn infer_over_http_equals_in_process_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path(), 8);
    let (model, predictor) = loaded(tmp.path());
    let mel = featurize_wavs(&model.manifest, &clips()).unwrap();
    let direct = predictor.predict(std::slice::from_ref(&mel)).unwrap();
    let server = start(vec![aic_serve::load_predictor(tmp.path()).unwrap()]);

    let req = InferRequest::from_tensors(Some("req-1".into()), std::slice::from_ref(&mel));
    let (status, body) = call(
        &format!("{}/v2/models/kws-dscnn-fsdd/infer", server.base),
        Some(&serde_json::to_value(&req).unwrap()),
    );
    assert_eq!(status, 200, "{body}");
    let resp: InferResponse = serde_json::from_value(body).unwrap();
    assert_eq!(resp.model_name, "kws-dscnn-fsdd");
    assert_eq!(resp.model_version.as_deref(), Some("0.1.0"));
    assert_eq!(resp.id.as_deref(), Some("req-1"));
    assert_eq!(resp.outputs.len(), 1);
    let out = &resp.outputs[0];
    assert_eq!(
        (out.name.as_str(), out.datatype.as_str()),
        ("logits", "FP32")
    );
    assert_eq!(out.shape, vec![3, 10]);
    let got: Vec<f32> = serde_json::from_value(out.data.clone()).unwrap();
    let want = direct[0].as_f32().unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(want));

    // Output selection, and nested data is the same request.
    let nested = json!({
        "inputs": [{"name": "mel", "shape": [3, 101, 40], "datatype": "FP32",
                    "data": mel.as_f32().unwrap().chunks(40).map(<[f32]>::to_vec).collect::<Vec<_>>()}],
        "outputs": [{"name": "logits"}]
    });
    let (status, body) = call(
        &format!(
            "{}/v2/models/kws-dscnn-fsdd/versions/0.1.0/infer",
            server.base
        ),
        Some(&nested),
    );
    assert_eq!(status, 200, "{body}");
    let got: Vec<f32> = serde_json::from_value(body["outputs"][0]["data"].clone()).unwrap();
    assert_eq!(bits(&got), bits(want));
}

fn error(status_body: (u16, Value)) -> (u16, String) {
    let (status, body) = status_body;
    let e: ErrorBody = serde_json::from_value(body).unwrap();
    (status, e.error)
}

#[test]
fn bad_requests_are_refused_with_a_clear_400() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path(), 2);
    let server = start(vec![aic_serve::load_predictor(tmp.path()).unwrap()]);
    let url = format!("{}/v2/models/kws-dscnn-fsdd/infer", server.base);
    let req = |name: &str, shape: &[usize], datatype: &str| {
        let n: usize = shape.iter().product();
        let data: Value = if datatype == "FP32" {
            json!(vec![0.5f32; n])
        } else {
            json!(vec![0i64; n])
        };
        json!({"inputs": [{"name": name, "shape": shape, "datatype": datatype, "data": data}]})
    };
    assert_eq!(
        error(call(&url, Some(&req("mel", &[1, 100, 40], "FP32")))),
        (
            400,
            "input \"mel\": expected shape [-1, 101, 40], got [1, 100, 40]".into()
        )
    );
    assert_eq!(
        error(call(&url, Some(&req("mel", &[1, 101, 40], "INT64")))),
        (
            400,
            "input \"mel\": expected datatype FP32, got INT64".into()
        )
    );
    assert_eq!(
        error(call(&url, Some(&req("audio", &[1, 101, 40], "FP32")))),
        (
            400,
            "unknown input \"audio\" (the model's inputs: mel)".into()
        )
    );
    let (status, msg) = error(call(&url, Some(&req("mel", &[3, 101, 40], "FP32"))));
    assert_eq!(status, 400);
    assert!(
        msg.contains("batch of 3 exceeds the model's max_batch 2"),
        "{msg}"
    );
    let mut short = req("mel", &[1, 101, 40], "FP32");
    short["inputs"][0]["data"] = json!([1.0, 2.0]);
    let (status, msg) = error(call(&url, Some(&short)));
    assert_eq!(status, 400);
    assert!(msg.contains("needs 4040 elements, the data has 2"), "{msg}");
    let (status, msg) = error(call(&url, Some(&json!({"inputs": "nope"}))));
    assert_eq!(status, 400);
    assert!(msg.starts_with("invalid request JSON"), "{msg}");
    let mut pick = req("mel", &[1, 101, 40], "FP32");
    pick["outputs"] = json!([{"name": "probabilities"}]);
    let (status, msg) = error(call(&url, Some(&pick)));
    assert_eq!(status, 400);
    assert!(msg.contains("unknown output \"probabilities\""), "{msg}");
    // The server still answers a good request afterwards.
    let (status, _) = call(&url, Some(&req("mel", &[2, 101, 40], "FP32")));
    assert_eq!(status, 200);
}

#[test]
fn health_metadata_and_unknown_models() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path(), 8);
    let (model, predictor) = loaded(tmp.path());
    let server = start(vec![predictor]);
    let b = &server.base;
    assert_eq!(
        call(&format!("{b}/v2/health/live"), None),
        (200, json!({"live": true}))
    );
    assert_eq!(
        call(&format!("{b}/v2/health/ready"), None),
        (200, json!({"ready": true}))
    );
    let (status, meta) = call(&format!("{b}/v2"), None);
    assert_eq!(status, 200);
    assert_eq!(meta["name"], "aic-serve");
    let (status, meta) = call(&format!("{b}/v2/models/kws-dscnn-fsdd"), None);
    assert_eq!(status, 200);
    let meta: ModelMetadata = serde_json::from_value(meta).unwrap();
    assert_eq!(
        meta,
        ModelMetadata::from_manifest(&model.manifest, "aic-burn")
    );
    assert_eq!(meta.inputs[0].shape, vec![-1, 101, 40]);
    assert_eq!(meta.outputs[0].shape, vec![-1, 10]);
    assert_eq!(
        call(&format!("{b}/v2/models/kws-dscnn-fsdd/ready"), None),
        (200, json!({"name": "kws-dscnn-fsdd", "ready": true}))
    );
    let (status, msg) = error(call(&format!("{b}/v2/models/nope"), None));
    assert_eq!(status, 404);
    assert_eq!(msg, "unknown model \"nope\" (served: kws-dscnn-fsdd)");
    let (status, _) = error(call(
        &format!("{b}/v2/models/nope/infer"),
        Some(&json!({"inputs": []})),
    ));
    assert_eq!(status, 404);
    let (status, _) = error(call(
        &format!("{b}/v2/models/kws-dscnn-fsdd/versions/9.9.9"),
        None,
    ));
    assert_eq!(status, 404);
    let (status, _) = error(call(&format!("{b}/v1/models"), None));
    assert_eq!(status, 404);
}

#[test]
fn two_models_may_not_share_a_name() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path(), 8);
    let a = aic_serve::load_predictor(tmp.path()).unwrap();
    let b = aic_serve::load_predictor(tmp.path()).unwrap();
    let e = aic_serve::router(vec![a, b]).unwrap_err();
    assert!(e.to_string().contains("kws-dscnn-fsdd"), "{e}");
}

/// The ONNX test model of `scripts/make_onnx_mlp.py` in a package directory with `manifest`.
fn onnx_dir(dir: &Path, change: impl FnOnce(&mut aic_model::Manifest)) {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx-mlp");
    let graph = std::fs::read(data.join("weights.onnx")).unwrap();
    let mut m = aic_model::template(Task::Classification);
    m.model.name = "mlp-onnx".into();
    m.runtime.engine = "onnx".into();
    m.runtime.engine_version = "0.23.9".into();
    m.runtime.architecture = "onnx".into();
    m.runtime.determinism = aic_model::Determinism::Tolerance;
    m.weights.format = aic_model::WeightsFormat::Onnx;
    change(&mut m);
    let text = fill_weights(&m.to_toml_string(), &graph).unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    std::fs::write(dir.join(aic_model::ONNX_WEIGHTS_FILE), graph).unwrap();
}

#[cfg(not(feature = "onnx"))]
#[test]
fn onnx_needs_the_feature() {
    let tmp = tempfile::tempdir().unwrap();
    onnx_dir(tmp.path(), |_| {});
    let e = aic_serve::load_predictor(tmp.path()).unwrap_err();
    assert!(e.to_string().contains("`onnx` feature"), "{e}");
}

/// tract's outputs equal torch's recorded ones within `|a - b| <= 1e-5 + 1e-4 |b|`, over HTTP too.
#[cfg(feature = "onnx")]
#[test]
fn onnx_model_matches_torch() {
    use aic_ml::tensor::NamedTensor;
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx-mlp");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("expected.json")).unwrap())
            .unwrap();
    let x: Vec<f32> = serde_json::from_value(expected["input"]["data"].clone()).unwrap();
    let want: Vec<f32> = serde_json::from_value(expected["output"]["data"].clone()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    onnx_dir(tmp.path(), |_| {});
    let p = aic_serve::load_predictor(tmp.path()).unwrap();
    assert_eq!(p.platform(), "onnx-tract");
    let input = NamedTensor::f32("features", vec![3, 64], x).unwrap();
    let out = p.predict(std::slice::from_ref(&input)).unwrap();
    assert_eq!(out[0].shape(), &[3, 10]);
    for (a, b) in out[0].as_f32().unwrap().iter().zip(&want) {
        assert!(
            (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "tract {a} torch {b}"
        );
    }
    // Another batch size through the symbolic batch dimension, and over HTTP.
    let one = NamedTensor::f32(
        "features",
        vec![1, 64],
        input.as_f32().unwrap()[..64].to_vec(),
    )
    .unwrap();
    let server = start(vec![p]);
    let (status, body) = call(
        &format!("{}/v2/models/mlp-onnx/infer", server.base),
        Some(&serde_json::to_value(InferRequest::from_tensors(None, &[one])).unwrap()),
    );
    assert_eq!(status, 200, "{body}");
    let got: Vec<f32> = serde_json::from_value(body["outputs"][0]["data"].clone()).unwrap();
    for (a, b) in got.iter().zip(&want[..10]) {
        assert!(
            (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "tract {a} torch {b}"
        );
    }
    let (_, meta) = call(&format!("{}/v2/models/mlp-onnx", server.base), None);
    assert_eq!(meta["platform"], "onnx-tract");
}

#[cfg(feature = "onnx")]
#[test]
fn onnx_graph_that_differs_from_its_manifest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    onnx_dir(tmp.path(), |m| {
        m.interface.inputs[0].name = "x".into();
        m.interface.inputs[0].shape[1] = aic_model::Dim::Fixed(32);
        m.data.columns[0].name = "x".into();
        m.data.columns[0].shape[0] = aic_model::Dim::Fixed(32);
    });
    let e = aic_serve::load_predictor(tmp.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the ONNX graph does not match the manifest's interface"),
        "{e}"
    );
    assert!(
        e.contains("input \"x\" is named \"features\" in the graph"),
        "{e}"
    );
    assert!(
        e.contains("shape [-1, 32] in the manifest, [batch, 64] in the graph"),
        "{e}"
    );
}
