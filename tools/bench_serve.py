"""Continuous batching through the official `openai` client against `./laconic serve`.

  /tmp/hfvenv/bin/python tools/bench_serve.py --base-url http://127.0.0.1:8000/v1 --clients 1 8 --max-tokens 32

First a check: one chat completion not streamed and one streamed (reasoning_content apart, usage counted).
Then for each client count C: C threads each send one streamed chat request (ignore_eos, so every answer is
max_tokens long) at once; aggregate tokens/s = all completion tokens / wall time; TTFT and the gaps between
tokens as percentiles over all requests.
"""
import argparse, statistics, threading, time
import openai


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def one(client, model, i, max_tokens, out):
    t0 = time.perf_counter()
    times, usage = [], None
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"Question {i}: what is {i} + {i * 7}?"}],
        max_tokens=max_tokens, temperature=0.6, top_p=0.95, seed=i, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for ch in chunk.choices:
            d = ch.delta
            if getattr(d, "content", None) or getattr(d, "reasoning_content", None) or (d.model_extra or {}).get("reasoning_content"):
                times.append(time.perf_counter())
    out.append((t0, times, usage.completion_tokens if usage else 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    ap.add_argument("--api-key", default="none")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--max-tokens", type=int, default=32)
    a = ap.parse_args()
    client = openai.OpenAI(base_url=a.base_url, api_key=a.api_key)
    model = client.models.list().data[0].id
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "What is 2+3?"}],
                                       max_tokens=16, seed=1, extra_body={"thinking_budget": 8})
    m = r.choices[0].message
    print("not streamed: finish", r.choices[0].finish_reason, "| reasoning_content", repr((m.model_extra or {}).get("reasoning_content", "")[:60]),
          "| content", repr((m.content or "")[:60]), "| usage", r.usage.model_dump())
    parts = {"reasoning_content": 0, "content": 0}
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "What is 2+3?"}],
                                                max_tokens=16, seed=1, stream=True, extra_body={"thinking_budget": 8}):
        for ch in chunk.choices:
            for k in parts:
                v = getattr(ch.delta, k, None) or (ch.delta.model_extra or {}).get(k)
                if v: parts[k] += len(v)
    print("streamed: characters by delta field", parts)
    base = None
    for c in a.clients:
        out = []
        threads = [threading.Thread(target=one, args=(client, model, i, a.max_tokens, out)) for i in range(c)]
        t0 = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        wall = time.perf_counter() - t0
        tokens = sum(o[2] for o in out)
        ttft = [o[1][0] - o[0] for o in out if o[1]]
        gaps = [b - a_ for o in out for a_, b in zip(o[1], o[1][1:])]
        rate = tokens / wall
        base = base or rate
        print(f"clients {c}: {tokens} tokens in {wall:.1f} s = {rate:.2f} tokens/s aggregate ({rate / base:.2f}x of 1 client); "
              f"TTFT p50 {pct(ttft, .5):.2f} s p90 {pct(ttft, .9):.2f} s; per-token p50 {1000 * pct(gaps, .5):.0f} ms "
              f"p90 {1000 * pct(gaps, .9):.0f} ms p99 {1000 * pct(gaps, .99):.0f} ms")


if __name__ == "__main__":
    main()
