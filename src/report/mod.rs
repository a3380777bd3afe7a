//! `report.html`: the run as a page for people, made from the summary and the rejected rows
//! kept as examples (the documents the tool reads back are `crate::folder`'s).

pub mod html;
