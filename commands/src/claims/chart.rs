//! The /report chart: paid per session against the contracted rate and Medicare, per code, as a
//! PNG. Drawn with plotters into memory using the DejaVu Sans font embedded in the binary
//! (commands/data/fonts, Bitstream Vera licence), so no system font is ever needed.

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");
const FAMILY: &str = "raterise-sans";
const WIDTH: u32 = 900;
const HEIGHT: u32 = 500;

/// One code's three figures, in cents.
#[derive(Debug, Clone)]
pub struct ChartCode {
    pub cpt: String,
    pub paid: Option<i64>,
    pub contract: Option<i64>,
    pub medicare: Option<i64>,
}

fn font() -> Result<(), String> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        if register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            result = Err("the embedded chart font could not be read".to_string());
        }
    });
    result
}

/// A PNG of grouped bars; codes without any figure are left out.
pub fn paid_vs_contract_png(title: &str, codes: &[ChartCode]) -> Result<Vec<u8>, String> {
    font()?;
    let codes: Vec<&ChartCode> =
        codes.iter().filter(|c| c.paid.is_some() || c.contract.is_some() || c.medicare.is_some()).collect();
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut rgb, title, &codes).map_err(|e| format!("drawing the chart: {e}"))?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| format!("encoding the chart: {e}"))?;
        w.write_image_data(&rgb).map_err(|e| format!("encoding the chart: {e}"))?;
    }
    Ok(out)
}

/// A bar series: its legend, colour and which figure of a code it draws.
type Series = (&'static str, RGBColor, fn(&ChartCode) -> Option<i64>);

fn draw<'a>(rgb: &'a mut [u8], title: &str, codes: &[&ChartCode]) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = codes.iter().flat_map(|c| [c.paid, c.contract, c.medicare]).flatten().max().unwrap_or(10_000);
    let y_max = (top as f64 / 100.0 * 1.2).max(10.0);
    let n = codes.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..n, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("dollars per session")
        .y_label_formatter(&|v| format!("${v:.0}"))
        .label_style((FAMILY, 14))
        .draw()?;
    let series: [Series; 3] = [
        ("Insurance paid per session", RGBColor(33, 102, 172), |c| c.paid),
        ("Contracted rate", RGBColor(244, 165, 130), |c| c.contract),
        ("Medicare", RGBColor(120, 120, 120), |c| c.medicare),
    ];
    for (k, (label, color, get)) in series.iter().enumerate() {
        let bars: Vec<Rectangle<(f64, f64)>> = codes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let v = get(c)? as f64 / 100.0;
                let x0 = i as f64 + 0.12 + k as f64 * 0.26;
                Some(Rectangle::new([(x0, 0.0), (x0 + 0.24, v)], color.filled()))
            })
            .collect();
        let color = *color;
        chart
            .draw_series(bars)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FAMILY, 14))
        .draw()?;
    let code_font = (FAMILY, 16).into_font().color(&BLACK);
    for (i, c) in codes.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(c.cpt.clone(), (px - 22, py + 8), code_font.clone()))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_with_the_embedded_font() {
        let codes = vec![
            ChartCode { cpt: "90837".into(), paid: Some(11000), contract: Some(11850), medicare: Some(13648) },
            ChartCode { cpt: "90834".into(), paid: Some(9000), contract: None, medicare: Some(9000) },
        ];
        let png = paid_vs_contract_png("Cigna: paid per session", &codes).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() > 2000);
        // Empty input still draws axes.
        assert!(paid_vs_contract_png("nothing", &[]).is_ok());
    }
}
