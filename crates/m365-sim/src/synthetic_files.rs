//! Deterministic file content and generated OneDrive contents.
//!
//! Content given as `size` + `seed` is a pure function of (seed, offset), so
//! any byte range can be produced on demand without holding the file: a
//! 100 GB item costs nothing until someone downloads it, and a `Range`
//! request starts anywhere in O(1).

use crate::drive_spec::DriveItemSpec;

/// SplitMix64's finaliser: a cheap, well-mixed 64-bit permutation.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fills `out` with the bytes of the `seed` stream starting at `offset`.
pub(crate) fn fill(seed: u64, offset: u64, out: &mut [u8]) {
    let key = mix(seed ^ 0x5eed_f11e_5eed_f11e);
    let mut word = offset / 8;
    let skip = usize::try_from(offset % 8).unwrap_or(0);
    let mut written = 0;
    if skip != 0 {
        let bytes = mix(key ^ word).to_le_bytes();
        for (byte, from) in out.iter_mut().zip(bytes.iter().skip(skip)) {
            *byte = *from;
            written += 1;
        }
        word += 1;
    }
    let mut chunks = out
        .get_mut(written..)
        .unwrap_or_default()
        .chunks_exact_mut(8);
    for chunk in &mut chunks {
        chunk.copy_from_slice(&mix(key ^ word).to_le_bytes());
        word += 1;
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        for (byte, from) in rest.iter_mut().zip(mix(key ^ word).to_le_bytes()) {
            *byte = from;
        }
    }
}

/// The entry of `list` that `h` picks (`h` modulo the length), or "" for an
/// empty list.
pub(crate) fn pick(list: &[&'static str], h: u64) -> &'static str {
    u64::try_from(list.len())
        .ok()
        .and_then(|len| h.checked_rem(len))
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| list.get(i))
        .copied()
        .unwrap_or_default()
}

/// Folders generated files are spread over, as people tend to have them.
const FOLDERS: [&str; 8] = [
    "Documents",
    "Documents/Projects",
    "Documents/Projects/Archive",
    "Pictures",
    "Pictures/2025",
    "Desktop",
    "Shared with team",
    "Notes",
];
const EXTENSIONS: [&str; 6] = ["docx", "xlsx", "pdf", "pptx", "jpg", "txt"];

/// `count` generated files for the drive identified by `drive_key` (any
/// stable string, e.g. the owner's id): sizes log-uniform between 50 KB and
/// 800 KB (median 200 KB), and about one in a hundred between 10 and 20 MB.
pub(crate) fn synthetic_items(
    content_seed: u64,
    drive_key: &str,
    count: u32,
) -> Vec<DriveItemSpec> {
    let drive_hash = drive_key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3)
    });
    (0..count)
        .map(|i| {
            let h = mix(content_seed ^ mix(drive_hash ^ u64::from(i)));
            let folder = pick(&FOLDERS, h);
            let ext = pick(&EXTENSIONS, h >> 8);
            let size = if i % 97 == 13 {
                10_000_000 + (h >> 20) % 10_000_000
            } else {
                // 2^(u·4 − 2) · 200 KB with u uniform in [0, 1).
                let u = ((h >> 11) as f64) / ((1u64 << 53) as f64);
                (200_000.0 * (u * 4.0 - 2.0).exp2()) as u64
            };
            DriveItemSpec {
                path: format!("{folder}/file-{i:05}.{ext}"),
                size: Some(size),
                seed: Some(h),
                ..DriveItemSpec::default()
            }
        })
        .collect()
}

/// Users made by `synthetic::synthetic_tenant`: their ids carry the user
/// kind `5e01` in the second GUID group.
pub(crate) fn is_synthetic_user(id: &str) -> bool {
    id.split('-').nth(1) == Some("5e01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_range_matches_the_whole_stream() {
        let mut whole = vec![0u8; 1000];
        fill(7, 0, &mut whole);
        for (start, len) in [
            (0, 1000),
            (3, 17),
            (8, 8),
            (13, 900),
            (999, 1),
            (5, 2),
            (6, 0),
            (1, 30),
            (0, 5),
        ] {
            let mut part = vec![0u8; len];
            fill(7, start as u64, &mut part);
            assert_eq!(part, whole[start..start + len], "range {start}+{len}");
        }
        let mut other = vec![0u8; 1000];
        fill(8, 0, &mut other);
        assert_ne!(other, whole);
    }

    #[test]
    fn pick_takes_the_hash_modulo_the_length() {
        let list = ["a", "b", "c"];
        let picked: Vec<&str> = (0..7).map(|h| pick(&list, h)).collect();
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c", "a"]);
        assert_eq!(pick(&list, u64::MAX), "a");
        assert_eq!(pick(&[], 5), "");
    }

    #[test]
    fn generated_drives_look_like_real_ones() {
        let items = synthetic_items(1, "user-a", 1000);
        assert_eq!(items, synthetic_items(1, "user-a", 1000));
        assert_ne!(items, synthetic_items(1, "user-b", 1000));
        let mut sizes: Vec<u64> = items.iter().filter_map(|i| i.size).collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        assert!((150_000..=260_000).contains(&median), "median {median}");
        let big = sizes.iter().filter(|s| **s > 10_000_000).count();
        assert!((5..=20).contains(&big), "{big} files over 10 MB");
    }
}
