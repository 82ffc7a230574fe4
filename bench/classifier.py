"""Benchmark: the local classifier on the labelled demo corpus (app/demo/corpus.py).

    .venv/bin/python bench/classifier.py [--comments 6000] [--seed 13] [--score 1000]

Generates N labelled German comments, splits them 80/20 stratified (seeded), fits both models
through `classifier.fit_spam` / `fit_topic` (the functions `train()` uses) on the 80 %, and reports
on the 20 %: spam precision/recall/F1 at 0.5 and at the default threshold 0.9, topic accuracy and
macro-F1, training time, the stored size, and the time to score one comment (`score()`'s own path:
the stored bytes loaded, one text at a time). Then the same in "hard mode" (sentences of other
classes mixed in, typos, spam that reads like a reader, 5 % wrong labels).

Template text is easier than real comments: read the figures as an upper bound.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # not bench/: its queue.py would shadow the standard library's

from sklearn.model_selection import train_test_split  # noqa: E402 – the benchmark may; it is not the app

from app.demo import corpus  # noqa: E402
from app.moderation import classifier  # noqa: E402


def run(n: int, seed: int, hard: bool, scored: int) -> None:
    samples = corpus.generate(n, seed=seed, hard=hard)
    train, test = train_test_split(samples, test_size=0.2, stratify=[s.label for s in samples], random_state=seed)
    started = time.perf_counter()
    spam = classifier.fit_spam([s.text for s in train], [s.spam for s in train], evaluate=False)
    spam_seconds = time.perf_counter() - started
    topical = [s for s in train if not s.spam]
    started = time.perf_counter()
    topic = classifier.fit_topic([s.text for s in topical], [s.label for s in topical], evaluate=False)
    topic_seconds = time.perf_counter() - started

    truth = [int(s.spam) for s in test]
    probabilities = spam.spam_probability([s.text for s in test])
    at_half = classifier.spam_metrics(truth, probabilities, 0.5)
    at_threshold = classifier.spam_metrics(truth, probabilities, 0.9)
    test_topics = [s for s in test if not s.spam]
    topics = classifier.topic_metrics([s.label for s in test_topics], topic.predict([s.text for s in test_topics]))

    # Scoring as `score()` does it: estimators loaded from the stored bytes, one comment at a time.
    models = {classifier.SPAM: classifier.loads(classifier.dumps(spam)),
              classifier.TOPIC: classifier.loads(classifier.dumps(topic))}
    times = []
    for sample in (test * (scored // len(test) + 1))[:scored]:
        started = time.perf_counter()
        classifier.scores_of(models, sample.text)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()

    mode = "hard" if hard else "plain"
    print(f"{mode}: {n:,} comments ({sum(s.spam for s in samples):,} spam), train {len(train):,} / test {len(test):,}")
    print(f"  spam  ≥0.5: precision {at_half['precision']:.3f} recall {at_half['recall']:.3f} f1 {at_half['f1']:.3f}")
    print(f"  spam  ≥0.9: precision {at_threshold['precision']:.3f} recall {at_threshold['recall']:.3f} "
          f"f1 {at_threshold['f1']:.3f}")
    print(f"  topic: accuracy {topics['accuracy']:.3f} macro-F1 {topics['macro_f1']:.3f} "
          f"({', '.join(f'{t} {v:.2f}' for t, v in topics['accuracy_per_topic'].items())})")
    print(f"  training: spam {spam_seconds:.2f} s on {len(train):,}, topic {topic_seconds:.2f} s on {len(topical):,}; "
          f"stored {len(classifier.dumps(spam)) / 1024:.0f} KiB + {len(classifier.dumps(topic)) / 1024:.0f} KiB")
    print(f"  scoring one comment (both models): median {statistics.median(times):.2f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.2f} ms over {len(times):,}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--score", type=int, default=1000, help="comments to time scoring on")
    args = parser.parse_args()
    for hard in (False, True):
        run(args.comments, args.seed, hard, args.score)


if __name__ == "__main__":
    main()
