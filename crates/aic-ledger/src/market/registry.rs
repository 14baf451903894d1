//! Publishing models and datasets.

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Address, DatasetPublication, MarketParams, ModelPublication};

use super::keys::{Record, RecordKey};
use super::records::{Dataset, Model};
use super::{check_label, check_unique};
use crate::overlay::{market, BlockContext, Overlay};

fn check_royalty(params: &MarketParams, bps: u16) -> Result<(), MarketError> {
    if bps > params.max_royalty_bps {
        return Err(MarketError::RoyaltyTooHigh {
            max: params.max_royalty_bps,
            got: bps,
        });
    }
    Ok(())
}

impl Overlay<'_> {
    pub(crate) fn publish_model(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        m: &ModelPublication,
    ) -> Result<(), TxError> {
        if self.model(&m.id).is_some() {
            return Err(market(MarketError::ModelExists));
        }
        check_label("task", &m.task).map_err(market)?;
        check_royalty(params, m.royalty_bps).map_err(market)?;
        for p in &m.params {
            check_label("parameter", &p.name).map_err(market)?;
            if p.min > p.max {
                return Err(market(MarketError::BadParamRange {
                    name: p.name.clone(),
                }));
            }
        }
        check_unique("parameter", m.params.iter().map(|p| p.name.as_str())).map_err(market)?;
        self.set_record(
            RecordKey::Model(m.id),
            Some(Record::Model(Model {
                owner: sender,
                task: m.task.clone(),
                royalty_bps: m.royalty_bps,
                params: m.params.clone(),
                published: ctx.height,
                jobs: 0,
            })),
        );
        Ok(())
    }

    pub(crate) fn publish_dataset(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        d: &DatasetPublication,
    ) -> Result<(), TxError> {
        if self.dataset(&d.id).is_some() {
            return Err(market(MarketError::DatasetExists));
        }
        check_label("task", &d.task).map_err(market)?;
        check_royalty(params, d.royalty_bps).map_err(market)?;
        self.set_record(
            RecordKey::Dataset(d.id),
            Some(Record::Dataset(Dataset {
                owner: sender,
                task: d.task.clone(),
                royalty_bps: d.royalty_bps,
                bytes: d.bytes,
                published: ctx.height,
                jobs: 0,
            })),
        );
        Ok(())
    }
}
