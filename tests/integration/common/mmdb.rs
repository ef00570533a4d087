//! A small MaxMind DB (format 2.0) written for tests: IPv4 networks, each with a
//! city and a country name in English, as GeoLite2 City stores them.
//! Spec: https://maxmind.github.io/MaxMind-DB/

enum Value<'a> {
    Str(&'a str),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'a str, Value<'a>)>),
    Array(Vec<Value<'a>>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        _ => {
            let n = size - 285;
            (30, vec![(n >> 8) as u8, n as u8])
        }
    };
    if kind <= 7 {
        out.push((kind << 5) | first);
    } else {
        out.push(first);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes: Vec<u8> = v
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    control(out, kind, bytes.len());
    out.extend(bytes);
}

fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend(s.as_bytes());
        }
        Value::U16(n) => uint(out, 5, *n as u64),
        Value::U32(n) => uint(out, 6, *n as u64),
        Value::U64(n) => uint(out, 9, *n),
        Value::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode(out, &Value::Str(k));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode(out, v);
            }
        }
    }
}

fn names(en: &str) -> Value<'_> {
    Value::Map(vec![("names", Value::Map(vec![("en", Value::Str(en))]))])
}

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// The database bytes for `networks`: (address, prefix length, city, country); an
/// empty city is left out of the record.
pub fn city_database(networks: &[(std::net::Ipv4Addr, u8, &str, &str)]) -> Vec<u8> {
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    let mut data = Vec::new();
    for (addr, prefix, city, country) in networks {
        let offset = data.len();
        let mut record = vec![("country", names(country))];
        if !city.is_empty() {
            record.insert(0, ("city", names(city)));
        }
        encode(&mut data, &Value::Map(record));
        let bits = u32::from(*addr);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][bit] = Rec::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(next) => next,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(next);
                        next
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for pair in &nodes {
        for rec in pair {
            let v = match rec {
                Rec::Empty => count,
                Rec::Node(n) => *n,
                Rec::Data(offset) => count + 16 + offset,
            } as u32;
            out.extend(&v.to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend(b"\xab\xcd\xefMaxMind.com");
    encode(
        &mut out,
        &Value::Map(vec![
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(1_764_000_000)),
            ("database_type", Value::Str("GeoLite2-City")),
            (
                "description",
                Value::Map(vec![("en", Value::Str("Latchkey test"))]),
            ),
            ("languages", Value::Array(vec![Value::Str("en")])),
            ("ip_version", Value::U16(4)),
            ("node_count", Value::U32(count as u32)),
            ("record_size", Value::U16(24)),
        ]),
    );
    out
}
