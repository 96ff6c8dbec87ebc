//! The views of the central area after the data table, in tab order. A new view is one file
//! implementing [`ViewSlot`] (or [`StudyView`](super::view_slot::StudyView)) and one line here.

use super::view_slot::{StudySlot, ViewSlot};

/// Every view, in tab order.
pub fn registered_views() -> Vec<Box<dyn ViewSlot>> {
    vec![
        Box::new(super::map_slot::MapSlot::default()),
        Box::new(StudySlot::<super::ss8_view::Ss8View>::default()),
        Box::new(StudySlot::<super::contacts_view::ContactsView>::default()),
        Box::new(StudySlot::<super::heads_view::HeadsView>::default()),
        Box::new(StudySlot::<super::homology_view::HomologyView>::default()),
        Box::new(StudySlot::<super::variants_view::VariantsView>::default()),
        Box::new(StudySlot::<super::alignment_view::AlignmentView>::default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::session::DATA_TAB;
    use super::super::view_slot::ViewSettings;
    use super::*;

    #[test]
    fn every_view_restores_what_it_saved() {
        let mut views = registered_views();
        let mut session = ViewSettings::new();
        for view in &views {
            view.save_settings(&mut session);
        }
        for view in &mut views {
            assert_eq!(view.restore_settings(&session), Ok(()), "{}", view.id());
        }
        let ids: Vec<&str> = views.iter().map(|v| v.id()).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "view ids are unique: {ids:?}");
        assert!(!ids.contains(&DATA_TAB));
    }
}
