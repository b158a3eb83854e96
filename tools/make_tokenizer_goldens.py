"""Writes the tokenizer test data under transformer/src/test/resources/tokenizer/:

  tokenizer.json.gz, tokenizer_config.json  the DeepSeek-R1-Distill-Qwen tokenizer, vendored (see NOTICE there)
  tokenizer_goldens.json                    a varied corpus with the ids, pre-tokenizer pieces and decodes that
                                            Hugging Face `tokenizers` computes, plus decodes of odd id sequences
                                            and two tokenizer.json variants (Llama-3 split regex, ignore_merges)
  chat_template_goldens.json                conversations rendered by transformers' apply_chat_template with the
                                            model's own Jinja template (text and ids)

Every expected value comes from Hugging Face code; this script also checks that `transformers` (the tokenizer
users actually call) agrees with the bare `tokenizers` library on every case.

Run: tools/.venv/bin/python tools/make_tokenizer_goldens.py [MODEL_DIR]
(MODEL_DIR defaults to ../shared/models/deepseek-r1-distill-qwen; needs `tokenizers` and `transformers`.)"""
import gzip, json, pathlib, random, shutil, sys, tempfile, unicodedata

import tokenizers
import transformers
from tokenizers import Regex, Tokenizer, pre_tokenizers

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/models/deepseek-r1-distill-qwen"
OUT = ROOT / "transformer/src/test/resources/tokenizer"

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness.",
    "Reasoning models think before they answer; shorter thoughts cost fewer tokens, so a 2x compression "
    "halves the bill (roughly). Dr. Smith's lab measured 3.7 GB/s -- not bad!",
    "“Curly quotes,” ‘single ones’, an em—dash, an en–dash, an ellipsis… and «guillemets».",
]
CODE = [
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "public final class Main {\n\tpublic static void main(String[] args) {\n\t\tSystem.out.println(\"hi\");\n\t}\n}\n",
    '{"ids": [151646, 9707, 0], "text": "a\\nb", "nested": {"k": null, "t": true}}',
    "for i in $(seq 1 10); do echo \"$i\" >> out.txt; done && cat out.txt | wc -l",
    "x+=1;y-=2;z*=3;w/=4;a<<=1;b>>=2;c&&d||e!=f==g<=h>=i->j=>k::l",
    "#include <stdio.h>\nint main(void){printf(\"%d\\n\",42);return 0;}\r\n",
]
LATEX = [
    r"$\frac{a}{b} + \sqrt{x^2 + y^2} = \int_0^\infty e^{-t^2}\,dt$",
    "\\begin{align}\n  E &= mc^2 \\\\\n  \\nabla \\cdot \\mathbf{E} &= \\frac{\\rho}{\\varepsilon_0}\n\\end{align}",
    r"Therefore $\boxed{42}$ and $\sum_{k=1}^{n} k = \frac{n(n+1)}{2}$.",
]
SCRIPTS = [
    "我们今天去公园散步，天气很好。机器学习是人工智能的一个分支。",
    "日本語のテキストです。カタカナとひらがな、そして漢字。",
    "한국어 문장입니다. 토크나이저 테스트.",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Γειά σου Κόσμε· ἀρχὴ σοφίας.",
    "مرحبا بالعالم، هذا نص عربي.",
    "שלום עולם, זה טקסט בעברית.",
    "नमस्ते दुनिया, यह हिंदी पाठ है। क्षत्रिय",
    "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่าง",
    "გამარჯობა მსოფლიო; Բարեւ աշխարհ; வணக்கம் உலகம்",
    "Ǆungla ǅungla ǆungla ß ẞ İstanbul ıi ﬁnance ﬀ",
]
EMOJI = [
    "👨‍👩‍👧‍👦 family, 👩🏽‍💻 coder, 🏳️‍🌈 flag, 🇫🇷🇯🇵 flags, 1️⃣ keycap, ❤️ heart",
    "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘",
    "emoji👍inside👍words and 💩x",
]
NFD = [
    "e\u0301cole, Ame\u0301lie, nai\u0308ve, A\u030angstro\u0308m",
    "\u212b \u2126 \u212a \uf900 \u1100\u1161\u11a8",   # Angstrom, Ohm, Kelvin, CJK compat, Hangul jamo: NFC changes them
    "o\u0308\u0301 q\u0307\u0323 \u0301leading combining mark",
    "café vs cafe\u0301",
]
SPACES = [
    "a\u00a0b\u2009c\u3000d\u0085e\u2028f\u2029g\u200bh\ufeffi\u202fj\u205fk\u1680l",
    "tab\there\vvertical\fform feed\x1cfile sep\x1fUnit",
    "\u00a0\u00a0lead and trail\u3000\u3000",
    "nul\x00byte and del\x7f and bell\x07",
]
DIGITS = [
    "1234567890 12 123 1234 12345 123456 0.5 3.14159 -2.5e-10 1,000,000",
    "٠١٢٣٤٥٦٧٨٩ ０１２３ ²³¹ ½ ⅓ ⅞ Ⅻ ⅻ ① ⑳",
    "0" * 50 + " " + "1234567890" * 8,
    "v1.2.3-rc4 2024-01-31T12:34:56Z 192.168.0.1:8080",
]
CONTRACTIONS = [
    "I'm you're he'll she'd we've it's don't can't won't y'all",
    "I'M YOU'RE HE'LL SHE'D WE'VE IT'S DON'T",
    "don’t it’s (curly) ''s 's 'S 'ſx 'Kx rock'n'roll",
    "'s's'T'Re've'M'LL'D'",
]
WHITESPACE = [
    "", " ", "  ", "    ", "\n", "\n\n", "\n\n\n\n", "\t", " \t \n", "a    b", "a \n\n  b",
    "trailing   ", "   leading", "  both  ", "a\n \n \nb", "x  \n  y", " \n", "\n ", "end with newline\n",
    "a  !", "a \t!", "word  \n\n  ", " ' ", "  ''  ",
]
CRLF = [
    "line1\r\nline2\r\n\r\nline4",
    "lone\rcr and \r\r\n mixed \n\r",
    "a\r\n  b \r\n\r\n\t\r\nc",
]
SPECIAL = [
    BOS + "Hello" + EOS,
    USER + "What is 2+2?" + ASSISTANT + "<think>\nSimple.\n</think>\n\nIt is 4." + EOS,
    "abc<think>def</think>ghi",
    "<think></think><think>",
    "partial: <｜User <｜User｜ <thinking> </think > < think> <｜begin▁of▁sentence",
    "<|EOT|> <|quad_start|><|quad_end|> <|vision_start|><|vision_pad|><|image_pad|><|video_pad|><|vision_end|>",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|> return 1<|fim_pad|><|repo_name|>r<|file_sep|>",
    "Qwen's own <|im_start|>user\nhi<|im_end|><|endoftext|> are plain text here",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f<｜tool▁call▁end｜>",
    BOS + BOS + " " + EOS + "\n" + EOS,
    "<<think>> <</think>>",
]
LONG = [
    "a" * 300,
    "abcdefghij" * 40,
    "=" * 200 + "-" * 100,
    "!?" * 150,
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 5,
    "😀" * 40,
    "中文" * 120,
    "x" + " " * 300 + "y",
    "\n" * 100 + "z",
]


def random_unicode(rng, n):
    # Code points drawn from blocks assigned long ago, so Java's and Oniguruma's Unicode tables agree.
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x300, 0x36f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x5ff),
              (0x600, 0x6ff), (0x900, 0x97f), (0xe00, 0xe7f), (0x1100, 0x11ff), (0x2000, 0x206f),
              (0x2070, 0x209f), (0x20a0, 0x20bf), (0x2100, 0x214f), (0x2150, 0x218f), (0x2190, 0x21ff),
              (0x2200, 0x22ff), (0x2460, 0x24ff), (0x3000, 0x303f), (0x3040, 0x30ff), (0x4e00, 0x9fa5),
              (0xac00, 0xd7a3), (0xf900, 0xfaff), (0xfb00, 0xfb4f), (0xff00, 0xffef), (0x1f300, 0x1f64f),
              (0x1d400, 0x1d7ff), (0x9, 0xd)]
    out = []
    while len(out) < n:
        lo, hi = rng.choice(blocks)
        cp = rng.randint(lo, hi)
        if unicodedata.category(chr(cp)) in ("Cn", "Cs", "Co"):
            continue
        out.append(chr(cp))
        if rng.random() < 0.15:
            out.append(rng.choice([" ", "  ", "\n", "'s", "123"]))
    return "".join(out)


def corpus():
    cases = []
    for group, texts in [("prose", PROSE), ("code", CODE), ("latex", LATEX), ("scripts", SCRIPTS),
                         ("emoji", EMOJI), ("nfd", NFD), ("spaces", SPACES), ("digits", DIGITS),
                         ("contractions", CONTRACTIONS), ("whitespace", WHITESPACE), ("crlf", CRLF),
                         ("special", SPECIAL), ("long", LONG)]:
        cases += [(group, t) for t in texts]
    rng = random.Random(1234)
    cases += [("random", random_unicode(rng, rng.randint(5, 200))) for _ in range(40)]
    # One long mixed document: exercises long pieces, the merge cache and every class of character at once.
    cases.append(("mixed", "\n\n".join(t for _, t in cases if t)))
    return cases


def byte_token_ids(tok):
    # GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 + k in byte order.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: tok.token_to_id(chr(c)) for b, c in zip(bs, cs)}


def decode_cases(tok):
    byte_id = byte_token_ids(tok)
    seqs = {
        "emoji split after 2 bytes then ascii": [byte_id[0xF0], byte_id[0x9F], byte_id[ord("a")]],
        "truncated 3-byte char at end": [byte_id[ord("x")], byte_id[0xE4], byte_id[0xB8]],
        "lone continuation bytes": [byte_id[0x80], byte_id[0xBF], byte_id[ord("b")], byte_id[0x80]],
        "overlong and surrogate encodings": [byte_id[0xC0], byte_id[0x80], byte_id[0xED], byte_id[0xA0], byte_id[0x80]],
        "bytes never valid in UTF-8": [byte_id[0xF5], byte_id[0xFF], byte_id[0xFE], byte_id[ord("c")]],
        "4-byte lead then 3-byte char": [byte_id[0xF0], byte_id[0xE4], byte_id[0xB8], byte_id[0xAD]],
        "F4 out of range": [byte_id[0xF4], byte_id[0x90], byte_id[0x80], byte_id[0x80]],
        "specials between bytes": [byte_id[0xE4], 151643, byte_id[0xB8], byte_id[0xAD], 151646, 151648, 151644],
        "all special and added": list(range(151643, 151665)),
    }
    rng = random.Random(99)
    for i in range(12):
        seqs[f"random ids {i}"] = [rng.randrange(0, 151665) for _ in range(rng.randint(1, 60))]
    return [{"name": k, "ids": v, "text": tok.decode(v, skip_special_tokens=False),
             "text_skip_special": tok.decode(v, skip_special_tokens=True)} for k, v in seqs.items()]


def variant(tok_json, change):
    j = json.loads(json.dumps(tok_json))
    change(j)
    return Tokenizer.from_str(json.dumps(j))


def set_llama3_regex(j):
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = LLAMA3_REGEX


# Qwen's vocabulary has no whole word that BPE would not also reach, so this variant adds two words to the vocabulary
# (without merges that build them) to make `ignore_merges` (Llama 3 sets it) change the ids.
EXTRA_WORDS = {"Ġsupercalifragilistic": 151700, "xyzzyplugh": 151701}


def set_ignore_merges(j):
    j["model"]["ignore_merges"] = True
    j["model"]["vocab"].update(EXTRA_WORDS)


def chat_cases():
    think = "<think>\nThe user wants a sum. 2+2=4.\n</think>\n\n"
    convs = [
        ("single user", [{"role": "user", "content": "What is 2+2?"}], True),
        ("system and user", [{"role": "system", "content": "You are terse."},
                             {"role": "user", "content": "Name a prime."}], True),
        ("multi-turn with thinking", [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "What is 2+2?"},
                                      {"role": "assistant", "content": think + "**4**"},
                                      {"role": "user", "content": "And 3+3?"}], True),
        ("no generation prompt", [{"role": "user", "content": "Hi"},
                                  {"role": "assistant", "content": "Hello! How can I help?"}], False),
        ("two </think> keeps text after the last",
         [{"role": "user", "content": "x"},
          {"role": "assistant", "content": "a</think>b</think>\n\nfinal answer"}], True),
        ("two system messages, last wins, placed first",
         [{"role": "user", "content": "u1"}, {"role": "system", "content": "first"},
          {"role": "assistant", "content": "a1"}, {"role": "system", "content": "second"},
          {"role": "user", "content": "u2"}], True),
        ("unicode and special tokens in content",
         [{"role": "system", "content": "Réponds en français 🇫🇷."},
          {"role": "user", "content": "Écris <think> et " + EOS + " littéralement\r\n中文"}], True),
        ("empty contents", [{"role": "system", "content": ""}, {"role": "user", "content": ""},
                            {"role": "assistant", "content": ""}], True),
        ("tool outputs", [{"role": "user", "content": "Weather in Paris?"},
                          {"role": "assistant", "content": "Let me check."},
                          {"role": "tool", "content": "{\"temp\": 21}"},
                          {"role": "tool", "content": "{\"sky\": \"clear\"}"},
                          {"role": "assistant", "content": "<think>ok</think>It is 21 and clear."},
                          {"role": "user", "content": "Thanks"}], True),
        ("ends with tool output", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "c"},
                                   {"role": "tool", "content": "r"}], True),
        ("tool calls", [{"role": "user", "content": "Add 1 and 2, then 3 and 4."},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"type": "function", "function": {"name": "add", "arguments": "{\"a\": 1, \"b\": 2}"}},
                            {"type": "function", "function": {"name": "add", "arguments": "{\"a\": 3, \"b\": 4}"}}]},
                        {"role": "tool", "content": "3"}, {"role": "tool", "content": "7"},
                        {"role": "assistant", "content": "3 and 7."},
                        {"role": "assistant", "content": None, "tool_calls": [
                            {"type": "function", "function": {"name": "mul", "arguments": "{}"}}]},
                        {"role": "user", "content": "ok"}], True),
    ]
    return convs


def write_json(path, obj):
    # One case per line: diffs stay readable when the corpus changes.
    def dump(x):
        return json.dumps(x, ensure_ascii=False, separators=(",", ":"))
    parts = [f"{dump(k)}:[\n" + ",\n".join(dump(c) for c in v) + "\n]" if isinstance(v, list) else f"{dump(k)}:{dump(v)}"
             for k, v in obj.items()]
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    raw = (MODEL / "tokenizer.json").read_bytes()
    with open(OUT / "tokenizer.json.gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
        g.write(raw)
    shutil.copyfile(MODEL / "tokenizer_config.json", OUT / "tokenizer_config.json")

    tok_json = json.loads(raw)
    tok = Tokenizer.from_str(raw.decode("utf-8"))
    hf = transformers.AutoTokenizer.from_pretrained(str(MODEL))
    split = pre_tokenizers.Split(Regex(tok_json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]),
                                 behavior="isolated")
    llama3_split = pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated")
    ignore = variant(tok_json, set_ignore_merges)
    ignore_texts = ["a supercalifragilistic word", "xyzzyplugh xyzzyplugh! supercalifragilistic",
                    " supercalifragilisticexpialidocious", "Hello world, it's a test."]
    ignore_cases = [{"text": t, "ids": ignore.encode(t, add_special_tokens=False).ids,
                     "ids_without_flag": tok.encode(t, add_special_tokens=False).ids} for t in ignore_texts]

    meta = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
            "vocab_size": tok.get_vocab_size(with_added_tokens=True), "bos_id": tok.token_to_id(BOS),
            "eos_id": tok.token_to_id(EOS), "llama3_regex": LLAMA3_REGEX, "extra_words": EXTRA_WORDS}
    cases = []
    for group, text in corpus():
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_bos = tok.encode(text, add_special_tokens=True).ids
        assert hf.encode(text, add_special_tokens=False) == ids, text
        assert hf.encode(text, add_special_tokens=True) == ids_bos, text
        dec = tok.decode(ids_bos, skip_special_tokens=False)
        dec_skip = tok.decode(ids_bos, skip_special_tokens=True)
        assert hf.decode(ids_bos, skip_special_tokens=False) == dec
        assert hf.decode(ids_bos, skip_special_tokens=True) == dec_skip
        assert ids_bos == [meta["bos_id"]] + ids, text   # so only `ids` is stored; with BOS = [bos_id] + ids
        cases.append({
            "group": group, "text": text, "ids": ids,
            "decoded": dec, "decoded_skip_special": dec_skip,
            "pieces": [p for p, _ in split.pre_tokenize_str(text)],  # the Split regex alone, on the raw text
            "pieces_llama3_regex": [p for p, _ in llama3_split.pre_tokenize_str(text)],
        })
    decodes = decode_cases(tok)
    for d in decodes:
        assert hf.decode(d["ids"], skip_special_tokens=False) == d["text"], d["name"]
        assert hf.decode(d["ids"], skip_special_tokens=True) == d["text_skip_special"], d["name"]
    write_json(OUT / "tokenizer_goldens.json",
               {"meta": meta, "cases": cases, "decodes": decodes, "ignore_merges": ignore_cases})

    chats = []
    for name, messages, gen in chat_cases():
        text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
        ids = hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=gen, return_dict=False)
        ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
        assert ids == tok.encode(text, add_special_tokens=False).ids, name
        chats.append({"name": name, "messages": messages, "add_generation_prompt": gen, "text": text, "ids": ids})
    write_json(OUT / "chat_template_goldens.json", {"meta": meta, "cases": chats})
    print(f"wrote {len(cases)} corpus cases, {len(decodes)} decode cases, {len(chats)} chats to {OUT}")


if __name__ == "__main__":
    main()
