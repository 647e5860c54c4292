#!/usr/bin/env bash
# Fetch the public news datasets the topic corpus is read from (bench/topic_corpus.py says
# what each one is), at the commits the labels were made on, into the folder layout
# `python -m bench.topic_corpus --source DIR` reads:
#
#   bench/topic_sources.sh DIR
#
# Each repository is cloned from GitHub into a scratch folder, or read from a local copy
# when NEWSMON_SOURCE_REPOS names a folder holding `owner+name` git directories (a clone
# or a bare repository). Only the files the corpus reads are written to DIR; the texts
# stay outside this repository.
set -euo pipefail

dest=${1:?usage: bench/topic_sources.sh DIR}
mkdir -p "$dest"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

git_dir() {  # owner/name -> a git directory holding its history
  local local_copy=${NEWSMON_SOURCE_REPOS:-}/${1/\//+}
  if [ -n "${NEWSMON_SOURCE_REPOS:-}" ] && [ -d "$local_copy" ]; then
    for candidate in "$local_copy/repo/.git" "$local_copy/repo" "$local_copy/.git" "$local_copy"; do
      if git --git-dir="$candidate" rev-parse --git-dir >/dev/null 2>&1; then
        echo "$candidate"
        return
      fi
    done
  fi
  if [ ! -d "$scratch/${1/\//+}" ]; then
    git clone --quiet --bare "https://github.com/$1" "$scratch/${1/\//+}" >&2
  fi
  echo "$scratch/${1/\//+}"
}

# take owner/name commit path-in-repo path-under-dest
take() {
  mkdir -p "$(dirname "$dest/$4")"
  git --git-dir="$(git_dir "$1")" show "$2:$3" > "$dest/$4"
}

# take_tree owner/name commit folder-in-repo folder-under-dest
take_tree() {
  mkdir -p "$dest/$4"
  git --git-dir="$(git_dir "$1")" archive --format=tar "$2:$3" | tar -x -C "$dest/$4"
}

echo "first round: AG News, BBC News, ISOT headlines, Reuters-21578" >&2
take madhubandru/Text-Classification-on-News-Articles-using-BERT-Framework \
  082f2db7c08a8fa3e19c46df0b4b5b0a5f81d1cd ag_news_csv/test.csv ag_news/test.csv
take_tree DokahlSoZoor/DieNeueKrone 4abe2d2ac2eb677e40bc2d770b7484b9745d4094 data/bbc bbc
take Ramundoness/cs224u-final-project 18b74792fc744440465de9a5e2bebbaa7200d3e0 True.csv isot_titles/True.csv
reuters=d16457fd9d6d2b623fffc163746092b89a6e2fef
for n in $(seq -w 0 21); do
  file=reut2-0$n.sgm
  [ "$n" = 03 ] && source=reut2-003-full.sgm || source=$file
  take loki86/ksr_zadanie1V2 "$reuters" "$source" "reuters21578/$file"
done

echo "second round: ISOT bodies, Reuters 2016 headlines, BBC RSS, fwd/news" >&2
take omertol/fake-news-detection 3d1325ea58747e92ba5a335fc559269c4e11f15e \
  data_sample/true_sample.csv isot_bodies/omertol_true_sample.csv
take Mattia26/Coursework1_DMS140 e0fe6d8264b91cc63f7278603a57e0aea8894396 \
  True_sample.csv isot_bodies/mattia26_True_sample.csv
take awala-aishwarya/fake-and-real-news-detection-ai d68d4139773b6905df42e1193e1a68e11c64cb4a \
  True_sample.csv isot_bodies/awala_True_sample.csv
take Vatshayan/Fake-News-Prediction be794ed4fd40ea715d134873ed91609063953a9a \
  True.csv isot_bodies/vatshayan_True.csv
take chasewalker26/NLP_project_1 b44999644b8043228f696158a691b562958f9a84 \
  datasets/reuters_headlines.csv reuters_2016/reuters_headlines.csv
take KANISHVARSHAN/Domain-Specific-Search-Engine 16f910420b9b354e2586681e45dc0c8e7c433da6 \
  Combined_News_DJIA.csv bbc_rss/Combined_News_DJIA.csv
take fwd/news 1027636fdfd3b8a414882b3c214c32830dccaf23 headlines.json fwd_news/headlines.json

echo "third round: Tehran Times, WMT news test sets" >&2
take_tree Kmahmoudi/Tehran-Times-Dataset 5441021a9f52bb153c1d7ab18ae3d6a6a93f1099 data tehran_times
take wmt-conference/wmt21-news-systems f41750dadbf2ba6ab01ca5380347d253298a3427 \
  xml/newstest2021.en-is.all.xml wmt_news/newstest2021.en-is.all.xml
for pair in en-zh en-hr; do
  take wmt-conference/wmt22-news-systems 20240a2e96a50e823ea8cdf37fd8af52547146e3 \
    "xml/wmttest2022.$pair.all.xml" "wmt_news/wmttest2022.$pair.all.xml"
done
echo "sixth round: HuffPost News Category Dataset (2018-2022)" >&2
take Limpery/MGO 3018c78107b543a8dc97a8793ff50eb1467344b7 \
  News_Category_Dataset_v3.json huffpost/News_Category_Dataset_v3.json
echo "sources written to $dest" >&2
