"""Benchmark: watch-list matching per article with 10, 1,000 and 100,000 entries, next to the
NER cost of the same articles measured in the same run.

Goal: with 100,000 entries, matching under 10% of NER time.

1. N synthetic wire stories (600-800 words, a headline, a dateline, several people each,
   named in full and then by surname, possessive or initials), from a fixed seed;
2. baseline: spaCy ``nlp.pipe`` over them with the model the pipeline loads
   (``load_model()``, every component on), ms/article; then the conversion the matcher's
   input needs (``sentences_of``, ``extract_entities``), printed apart;
3. a watch list of 100,000 distinct people whose names are drawn from given names and
   surnames of many languages (East Slavic ones romanised several ways, with feminine
   forms; Polish, German, Nordic, Romance, English, Arabic, Persian, Turkish, Greek,
   Caucasian, Indian, African, Chinese, Korean, Vietnamese, Japanese), with a few aliases,
   lists and topic filters; its prefixes of 10 and 1,000 entries. Some people the stories
   name are on each list, so there are hits;
4. the time to create the 100,000 entries (once); then for each size: the time to build
   ``WatchMatcher`` with the module's caches empty (printed apart), the memory the matcher
   keeps (resident-set growth) and its allocation peak (tracemalloc, in a second build with
   the caches emptied again), its pickled size (it is a Beam side input), and the
   ``mentions()`` time per article: the first pass, and the median of the passes after it.
   The ratio to NER uses the latter. Also: mentions per article by how they were read, and
   alerts per article (distinct entries matched), split into people the story names and
   others.

    python bench/watch_matching.py [--articles 50] [--sizes 10,1000,100000] [--seed 20250912]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import random
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Formatter

from newsmon.analysis import article_words, name_matcher, name_patterns, spelling
from newsmon.analysis.entities import extract_entities
from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.name_matcher import WatchMatcher
from newsmon.analysis.nlp import load_model, model_id
from newsmon.analysis.text import article_text, sentences_of
from newsmon.analysis.watch_entries import WatchEntry

NOW = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)
GOAL = 0.10  # matching / NER with 100,000 entries
NEWSMAKERS = 80  # people the stories are about; some of them are watched
WATCHED_NEWSMAKERS = {10: 5, 1000: 25}  # how many of them the first 10 and the first 1,000 entries hold
WATCHED_IN_ALL = 60  # ... and the whole list
NEWS_WEIGHT = 6  # how much more often the five people of the 10-entry list are in a story

# --- names -------------------------------------------------------------------------------
# Each language: male given names, female given names, surnames (male form), and how a
# female surname is formed from the male one.

_BY_M = ("Aliaksandr Siarhei Ihar Mikola Viktar Raman Ales Andrei Dzmitry Pavel Uladzimir Yauhen Aliaksei "
         "Maksim Artsiom Kanstantsin Valiantsin Mikhail Yury Stanislau Leanid Ryhor Aleh Vital").split()
_BY_F = ("Sviatlana Maryia Katsiaryna Volha Tatsiana Natallia Iryna Alena Hanna Darya Palina Yulia "
         "Liudmila Veranika Nasta Alesia Yana Krystsina").split()
_BY_S = ("Kazlou Novik Marozau Kavaliou Shautsou Karpovich Vasilevich Kalinouski Bahdanovich Yakubovich "
         "Klimovich Zhuk Sakalou Ramanau Savitski Pashkevich Makarevich Laurynovich Hurynovich Dashkevich "
         "Sidarenka Marchuk Kavalenka Melnik Tkachou Kuzmich Yanchuk Kasperovich Babkou Levanchuk Hlebau "
         "Paulau Mikhalevich Stankevich Kupreichyk Astapenka Karatkevich Bykau Barysevich Dzemidovich "
         "Sushkevich Astrouski Krauchanka Tarasevich Kastsiuk Lapitski Viarbitski Paliakou Hardzeyeu Sianko "
         "Shved Filipovich Zhurauliou Lukashevich Tsikhanovich Bialou Kupala Kolas Barshcheuski Maslouski "
         "Kaliada Dubouski Rusakevich Lahvinovich Tsimashenka Zhaunerovich Charnyshou Hrytskevich").split()
_RU_M = ("Alexei Dmitry Sergei Ivan Nikolai Vladimir Mikhail Andrei Pavel Oleg Boris Yevgeny Konstantin "
         "Grigory Anatoly Vasily Fyodor Kirill Ilya Roman Maxim Artyom Yuri Viktor Gennady Stanislav").split()
_RU_F = ("Yelena Olga Tatiana Natalia Irina Anna Maria Yekaterina Svetlana Lyudmila Marina Ksenia Daria "
         "Anastasia Valentina Galina Vera Nadezhda Polina Alina Yulia Sofia").split()
_RU_S = ("Ivanov Smirnov Kuznetsov Popov Vasiliev Petrov Sokolov Mikhailov Novikov Fedorov Morozov Volkov "
         "Alekseev Lebedev Semenov Yegorov Pavlov Kozlov Stepanov Nikolaev Orlov Andreev Makarov Nikitin "
         "Zakharov Zaitsev Soloviev Borisov Yakovlev Grigoriev Romanov Vorobiev Sergeev Kuzmin Frolov "
         "Alexandrov Dmitriev Korolev Gusev Kiselev Ilyin Maksimov Polyakov Sorokin Vinogradov Kovalev "
         "Belov Antonov Tarasov Zhukov Baranov Filippov Komarov Davydov Belyaev Gerasimov Bogdanov Osipov "
         "Sidorov Matveev Titov Markov Mironov Krylov Kulikov Karpov Vlasov Melnikov Denisov Gavrilov "
         "Tikhonov Kazakov Afanasiev Danilov Timofeev Chernov Abramov Martynov Fedotov Shcherbakov Nazarov "
         "Kalinin Isaev Chernyshev Bykov Maslov Rodionov Konovalov Lazarev Voronin Klimov Filatov Ponomarev "
         "Golubev Kudryavtsev Prokhorov Naumov Potapov Zhuravlev Ovchinnikov Trofimov Leonov Sobolev "
         "Yermakov Kolesnikov Goncharov Yemelyanov Nikiforov Kotov Grishin Arkhipov Gromov Kirillov "
         "Malyshev Panov Moiseev Rumyantsev Akimov Kondratiev Biryukov Gorbunov Anisimov Lukyanov Mikheev "
         "Skvortsov Yudin Belousov Nesterov Simonov Prokofiev Kharitonov Knyazev Tsvetkov Levin Voronov "
         "Aksenov Maltsev Loginov Gorshkov Savin Krasnov Demidov Yeliseev Rybakov Safonov Plotnikov Demin "
         "Khokhlov Fadeev Molchanov Litvinov Yershov Ushakov Ryabov Mukhin Leontiev Lobanov Korneev "
         "Borodin Platonov Nekrasov Balashov Bobrov Zhdanov Blinov Korotkov Muravyov Kryukov Drozdov Zuev "
         "Kovalevsky Zhukovsky Vysotsky Belinsky Ostrovsky Sadovsky Polyansky Uspensky Pokrovsky "
         "Sokolovsky Grabovsky Berezovsky Dubrovsky Yasinsky Zagorsky Orlovsky Novitsky Savitsky").split()
_UA_M = ("Oleksandr Volodymyr Mykola Taras Andriy Serhiy Yuriy Petro Bohdan Vasyl Oleh Dmytro Ihor Mykhailo "
         "Roman Ostap Yaroslav Vitaliy Anatoliy Maksym Oleksiy Denys Artem Kyrylo").split()
_UA_F = ("Olena Iryna Oksana Yuliia Nataliia Kateryna Halyna Tetiana Viktoriia Olha Solomiia Larysa Zoriana "
         "Khrystyna Mariia Liudmyla Nadiia Svitlana").split()
_UA_S = ("Shevchenko Kovalenko Bondarenko Tkachenko Kravchenko Oliinyk Shevchuk Koval Polishchuk Bondar "
         "Tkachuk Moroz Marchenko Lysenko Rudenko Savchenko Petrenko Klymenko Pavlenko Kravchuk Kuzmenko "
         "Ponomarenko Savchuk Vasylenko Levchenko Kharchenko Karpenko Melnyk Boyko Kovalchuk Romanenko "
         "Ivanenko Yakovenko Nazarenko Hnatiuk Hrytsenko Prokopenko Fedorenko Zinchenko Martyniuk "
         "Lytvynenko Semenko Yurchenko Didenko Sydorenko Hrytsak Stetsenko Kushnir Honcharenko Ostapchuk "
         "Dmytruk Hordiienko Yarosh Kostenko Kyrylenko Chornovol Symonenko Voloshyn Holub Kyrychenko "
         "Panchenko Tymoshchuk Hlushchenko Babenko Kovtun Makarenko Nechyporenko Kovalskyi Lutskyi "
         "Kaminskyi Vyshnevskyi Sadovskyi Stelmakh Danyliuk Bilous Rybak Dovzhenko Skoryk Horbatiuk").split()
_PL_M = "Piotr Krzysztof Tomasz Andrzej Paweł Marcin Michał Jakub Grzegorz Wojciech Łukasz Mateusz".split()
_PL_F = "Anna Katarzyna Małgorzata Agnieszka Joanna Ewa Magdalena Barbara Zofia Aleksandra".split()
_PL_S = ("Nowak Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Dąbrowski "
         "Kozłowski Jankowski Mazur Krawczyk Piotrowski Grabowski Pawłowski Michalski Zając Król Wieczorek "
         "Jabłoński Wróbel Majewski Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak "
         "Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak "
         "Zalewski Wróblewski Kwiatkowski Czarnecki Sobczak Kaczmarek Borkowski Chmielewski Sadowski").split()
_DE_M = ("Thomas Michael Andreas Stefan Markus Jürgen Klaus Wolfgang Matthias Frank Lukas Jonas Florian "
         "Tobias Dieter").split()
_DE_F = "Sabine Claudia Petra Monika Andrea Katrin Julia Anja Ursula Heike Annalena Birgit".split()
_DE_S = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
         "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
         "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
         "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther "
         "Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Ludwig Böhm Winter").split()
_NORDIC_M = "Lars Erik Anders Johan Nils Magnus Henrik Jens Ola Mikko Jukka Matti Sven Bjørn".split()
_NORDIC_F = "Ingrid Kristin Sigrid Astrid Karin Maria Hanna Liisa Aino Sanna Ebba Frida".split()
_NORDIC_S = ("Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
             "Hansen Johansen Olsen Larsen Andersen Pedersen Nielsen Kristiansen Jensen Karlsen Korhonen "
             "Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen Lehtonen "
             "Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen").split()
_FR_M = "Jean Pierre Michel Philippe Nicolas Olivier François Julien Laurent Antoine Thierry Benoît".split()
_FR_F = "Marie Nathalie Isabelle Sophie Camille Claire Élodie Céline Aurélie Hélène Chloé Manon".split()
_FR_S = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
         "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont "
         "Lambert Bonnet François Legrand Garnier Faure Rousseau Blanc Guérin Henry Roussel Perrin Morin "
         "Mathieu Clément Gauthier Dumont Fontaine Chevalier Robin Masson Sanchez Boyer Denis").split()
_ES_M = "José Juan Carlos Luis Miguel Javier Alejandro Diego Pablo Andrés Jorge Sergio Raúl".split()
_ES_F = "María Carmen Lucía Isabel Ana Laura Elena Marta Sofía Paula Pilar Rocío".split()
_ES_S = ("García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz "
         "Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez "
         "Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín "
         "Sanz Núñez Iglesias Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto").split()
_PT_M = "João António Francisco Paulo Rafael Tiago Bruno Rodrigo Pedro Luís Gustavo".split()
_PT_F = "Ana Mariana Beatriz Juliana Fernanda Gabriela Larissa Inês Leonor Camila".split()
_PT_S = ("Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Jesus Sousa Fernandes Gonçalves "
         "Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Teixeira Moreira Correia Mendes Nunes "
         "Soares Vieira Monteiro Cardoso Rocha Barbosa Araújo Cavalcanti Azevedo Barros Freitas").split()
_IT_M = "Giuseppe Giovanni Antonio Mario Luigi Francesco Marco Alessandro Matteo Lorenzo Paolo".split()
_IT_F = "Giulia Francesca Chiara Sara Valentina Alessia Elena Federica Giorgia Silvia".split()
_IT_S = ("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti "
         "De Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi "
         "Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola "
         "De Santis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini").split()
_EN_M = ("James John Robert Michael William David Richard Thomas Christopher Daniel Matthew Andrew Mark "
         "Paul Steven Kevin Brian George Edward Patrick").split()
_EN_F = ("Mary Patricia Jennifer Linda Elizabeth Susan Jessica Sarah Karen Emily Rachel Emma Laura Helen "
         "Catherine Margaret Deborah Amanda").split()
_EN_S = ("Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson "
         "Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill "
         "Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards "
         "Collins Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Bell Kelly Howard "
         "Ward Cox Richardson Wood Watson Brooks Bennett Gray Hughes Price Sanders Myers Long Ross Foster "
         "Powell Jenkins Perry Russell Sullivan Fisher Hayes Graham Wallace Cole West Jordan Reynolds "
         "Hamilton Ellis Palmer Fox Marshall Owens Hunt Stone Hart Knight Lane Porter Hudson Burke Fleming "
         "Holmes O'Brien O'Connor McCarthy Gallagher Doyle MacDonald Fraser Thornton Whitaker "
         "Ashworth Pemberton Hargreaves Blackwood Fairbanks Kingsley Whitfield Carrington").split()
_AR_M = ("Mohammed Ahmed Ali Omar Hassan Hussein Khaled Mahmoud Youssef Ibrahim Tariq Karim Samir Walid "
         "Faisal Nabil Ziad").split()
_AR_F = "Fatima Aisha Mariam Layla Noor Rania Huda Salma Yasmin Leila Dina Hala".split()
_AR_S = ("Al-Masri Haddad Khoury Nasser Saleh Hamdan Abdullah Mansour Aziz Rahman Khalil Suleiman Darwish "
         "Qasim Farouk Najjar Shami Hariri Jaber Awad Barakat Zidan Sabbagh Hijazi El-Sayed Abdel-Rahman "
         "Al-Tamimi Al-Khatib Al-Hashimi Al-Rashid Al-Amin Al-Zubaidi Bitar Ghanem Sharif Othman").split()
_FA_M = "Ali Reza Mohammad Hossein Mehdi Amir Saeed Hamid Babak Kourosh Farhad".split()
_FA_F = "Maryam Zahra Fatemeh Narges Shirin Parisa Nasrin Leila Azadeh Roya".split()
_FA_S = ("Ahmadi Hosseini Mohammadi Rezaei Moradi Karimi Jafari Rahimi Hashemi Ghorbani Sadeghi Kazemi "
         "Mousavi Tehrani Esfahani Shirazi Rostami Farahani Bagheri Najafi Amini Ebrahimi Yazdani").split()
_TR_M = "Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Murat Emre Burak Kemal Orhan Serkan".split()
_TR_F = "Ayşe Fatma Emine Zeynep Elif Hatice Merve Selin Esra Derya Gül".split()
_TR_S = ("Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan "
         "Çetin Kara Koç Kurt Özkan Şimşek Polat Korkmaz Güneş Aksoy Tekin Bulut Acar Karaca Uçar "
         "Karakaya Akgül Erdem Avcı Tunç Bozkurt").split()
_GR_M = "Georgios Dimitrios Konstantinos Ioannis Nikolaos Panagiotis Christos Vasilis Andreas".split()
_GR_F = "Maria Eleni Katerina Vasiliki Sofia Georgia Ioanna Despina".split()
_CAUC_M = "Giorgi David Levan Irakli Nika Zurab Armen Tigran Aram Hovhannes Davit Gurgen".split()
_CAUC_F = "Nino Tamar Ana Mariam Anahit Lilit Ketevan Salome Gayane".split()
_IN_M = "Rahul Amit Rajesh Sanjay Vikram Arjun Suresh Anil Ravi Manoj Deepak Arvind Nitin Kiran".split()
_IN_F = "Priya Sunita Anjali Pooja Kavita Neha Lakshmi Meera Divya Asha Shreya Nandini".split()
_IN_S = ("Sharma Verma Gupta Singh Kumar Patel Shah Mehta Reddy Rao Nair Iyer Menon Pillai Chatterjee "
         "Banerjee Mukherjee Das Bose Sen Joshi Desai Kapoor Malhotra Khanna Chopra Agarwal Bhatt Pandey "
         "Mishra Tiwari Yadav Chauhan Thakur Naidu Krishnan Subramanian Ghosh Dutta Saxena Kulkarni").split()
_AF_M = ("Oluwaseun Chinedu Emeka Babatunde Kwame Kofi Tendai Thabo Sipho Abebe Tesfaye Moussa Amadou "
         "Ibrahima Juma Baraka").split()
_AF_F = "Ngozi Chioma Amara Wanjiru Akosua Thandiwe Nomvula Aminata Fatoumata Halima Zawadi".split()
_AF_S = ("Okafor Adeyemi Okonkwo Eze Nwosu Balogun Adebayo Ogunleye Mensah Boateng Owusu Asante Kamau "
         "Otieno Odhiambo Mwangi Kiprop Ndlovu Dlamini Nkosi Mokoena Khumalo Tshabalala Bekele Tadesse "
         "Haile Girma Diallo Traoré Keita Coulibaly Diop Ndiaye Sow Camara Touré Banda Phiri Mutasa Achebe "
         "Onyango Chukwu Obi Adewale").split()
_CN_S = ("Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng Liang "
         "Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Du Ye Cheng Su Lu "
         "Ding Ren Shen Yao").split()
_CN_SYLLABLES = ("wei fang min jing qiang lei jun yong yan jie tao ming chao ying hua guo hong zhi hai "
                 "xin yu hui lin xiao jian ping dong qing bo yi feng long mei na li").split()
_KR_S = "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Yoo Hong".split()
_KR_SYLLABLES = "min jun seo yeon ji hoon woo hyun soo jin jae won eun dong young sung ho kyung hye".split()
_VN_S = "Nguyen Tran Le Pham Hoang Huynh Phan Vu Vo Dang Bui Do Ngo Duong Ly".split()
_VN_MIDDLE = "Van Thi Duc Minh Quoc Thanh Huu Ngoc".split()
_VN_GIVEN = "An Binh Cuong Dung Hai Hung Khanh Lan Linh Long Mai Nam Phuong Quang Son Thao Trang Tuan".split()
_JP_M = "Hiroshi Takashi Kenji Yuki Daisuke Shinji Kazuo Akira Taro Haruto Shigeru Fumio".split()
_JP_F = "Yoko Keiko Naoko Yumi Aiko Sakura Hana Emi Yuko Mariko".split()
_JP_S = ("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada "
         "Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Ikeda Hashimoto Ishikawa "
         "Ogawa Okada Hasegawa Fujita Kondo Nishimura").split()


def _feminine_slavic(surname: str) -> str:
    """The feminine form of an East Slavic surname (unchanged where it does not decline)."""
    for male, female in (("ski", "skaya"), ("sky", "skaya"), ("skyi", "ska"), ("ou", "ova"), ("au", "ava"),
                         ("iou", "iova"), ("eu", "eva"), ("ov", "ova"), ("ev", "eva"), ("in", "ina"),
                         ("yn", "yna")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


def _feminine_polish(surname: str) -> str:
    return surname[:-1] + "a" if surname.endswith(("ski", "cki", "dzki")) else surname


@dataclass(frozen=True)
class Language:
    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]

    def draw(self, rng: random.Random, key: str) -> tuple[str, str]:
        """A full name as the press writes it and the word later mentions use."""
        female = rng.random() < 0.4
        if key in ("cn", "kr"):
            syllables = _CN_SYLLABLES if key == "cn" else _KR_SYLLABLES
            family = rng.choice(_CN_S if key == "cn" else _KR_S)
            first, second = rng.choice(syllables), rng.choice(syllables)
            given = (first + second).capitalize() if key == "cn" else f"{first.capitalize()}-{second}"
            return f"{family} {given}", family  # family name first, as the press writes it
        if key == "vn":
            family = rng.choice(_VN_S)
            return f"{family} {rng.choice(_VN_MIDDLE)} {rng.choice(_VN_GIVEN)}", family
        given = rng.choice(self.female if female else self.male)
        surname = _surname(rng, key)
        if key in ("by", "ru", "ua") and female:
            surname = _feminine_slavic(surname)
        elif key == "pl" and female:
            surname = _feminine_polish(surname)
        return f"{given} {surname}", surname.split()[-1]


# The long tail: surnames built from a stem, an optional middle part and an ending typical of
# the language, so a list of 100,000 people has tens of thousands of distinct surnames, as a
# real one does, while the common surnames above (the head) are shared by many entries.
TAIL_PARTS: dict[str, tuple[str, str, str]] = {
    "slavic": ("Kozl Moroz Bahdan Kaval Sakal Vasil Hrab Dubr Lis Karp Zhur Bereza Kalin Yasin Sad Malin "
               "Savits Stan Pash Mak Dash Kasper Yak Klim Rad Barys Dzemid Taras Kast Lap Viarb Pal Hard "
               "Filip Hur Laur Hleb Paul Mikhal Kupr Astap Dan Karat Byk Sush Astr Krauch Marts Shaut "
               "Tsikh Charn Bial Kras Zel Sid Ostap Hnat Prokop Fedor Zinch Lytv Semen Yurch Did Kushn "
               "Ponom Kovt Nechyp Sklyar Shap Kost Drozd Zhdan Voron Sokal Holub Shvets Kulak Tyt Hal "
               "Bukh Dav Yerm Zakh Kruk Pyl Rudz Sem Tsar Vaul Zub Lych Myas Prakh Rom Serg Tkach",
               " ar ov en ul an in ash el ich us",
               "ovich evich enka enko uk chuk ou au ski ik ov in yshyn ets ovets iak ukevich ushka"),
    "pl": ("Kowal Nowic Wiśniew Zieliń Szyma Dąbrow Kozłow Jankow Krawc Piotrow Grabow Pawłow Michal "
           "Jabłoń Majew Olszew Malinow Jawor Rutkow Ostrow Tomaszew Zalew Wróblew Kwiatkow Czarnec Borkow "
           "Chmielew Sadow Brzeziń Sokołow Wasilew Lisow Gajew Krajew Lipiń Bielec Górec Kruszew Stawic",
           " an ow ec",
           "ski icz czyk ak ek ik iak"),
    "de": ("Stein Berg Rosen Lichten Eisen Grün Wald Feld Hoch Alt Neu Holz Kirch Linden Birken Sonnen "
           "Buch Eich Ehren Falken Frei Gold Hagen Hirsch Kalten Klingen Löwen Mühl Oster Reichen Schön",
           " en er",
           "bach berg feld mann thal hof stein burg wald dorf brunner hauser meier huber"),
    "nordic": ("Berg Lund Sjö Ek Lind Holm Dahl Strand Nord Sand Ahl Björk Fors Hag Lars Erik Anders Johan "
               "Nils Magnus Henrik Jens Sven Karl Per Olof Gustav Axel Fred Hed Lil Wall",
               "",
               "berg gren ström qvist lund dahl holm vall stedt blad sson sen by"),
    "en": ("Ash Black Brad Brom Cal Chad Crom Dun Ed Fair Gold Hal Hart Hol Kings Lang Mar Mid Mor North Ox "
           "Pem Rad Ran Red Rich Ros Sand Shel South Stan Thorn Wake Wal War West Whit Wick Win Alder Bur "
           "Clay Dray Els Farn Grims Hay Hux Kel Lox Mel Ned Pad Quen Rams Sher Tad",
           "",
           "ley ton ford field wood worth by ham well more bury stead don wick combe shaw ridge"),
    "fr": ("Beau Bel Bon Cham Chau Dela Du Fon Gar Lacro Mal Mont Ro Ver Vil Bour Clair Es Fleur Gran Haut "
           "Lam Mar Pon Rive Roche Sau Val",
           "",
           "champ mont val lande court ville rive fort pré château lin mas ot et ier"),
    "it": ("Bar Bel Cal Ferr Gall Mar Ross Sant Ven Zan Bott Cap Cost Fabr Gent Lomb Mor Pell Ricc Tor "
           "Bald Cant Fior Guar Lorenz Manf Nard Orl Pagan Rag Sorr Tedesc Vian",
           "",
           "etti ini elli ucci one ardi oni ato ese olo ano ieri"),
    "es": ("Valle Monte Campo Villa Torre Fuente Puerto Mira Casa Cerro Río Sierra Peña Vega Hoya Llano",
           "",
           "alta nueva rrubia verde real mayor flores blanca seca larga honda rroya"),
    "pt": ("Vila Monte Campo Torre Fonte Porto Ribeira Casal Serra Vale Quinta Lagoa",
           "",
           "nova verde real maior branca seca longa funda alta"),
    "ar": ("Baghdad Halab Dimashq Qahtan Shamm Hash Tamim Zubayd Ansar Mutayr Otayb Harb Ghamd Zahr Shehr "
           "Maliki Hakim Kuwait Najd Yaman Sudan Hijaz Kindi Asad Shaib Qurash Juhan Dosar Sabah",
           "",
           "i awi ani iyi"),
    "fa": ("Ahmad Hossein Karim Jafar Rahim Hashem Sadegh Kazem Mousav Tehran Esfahan Shiraz Rostam Farahan "
           "Bagher Najaf Amin Ebrahim Yazdan Golestan Mahmoud Nouri Akbar Asgar Safar Tabriz Kerman Mashhad",
           "",
           "i ian zadeh pour nejad far"),
    "tr": ("Kara Ak Demir Öz Er Gül Yıldız Tun Kaya Çelik Ay Gün Taş Bozkurt Altın Şen Soy Uz Koç Yücel "
           "Sarı Gök Toprak Ateş",
           "",
           "han kaya oğlu taş soy tekin demir el er türk can dağ doğan"),
    "gr": ("Papa Georgi Nikola Konstantin Dimitri Karamanl Vasil Ioann Christod Alexandr Stavr Lambr Spyr "
           "Manol Theodor Michail Anagnost Kyriak Panag Athan Evang Sotir Charal Kost",
           "",
           "opoulos akis idis ou atos elis"),
    "cauc": ("Beri Gela Kipi Mamu Tsiskari Lomi Javakhi Abashi Kvarats Gogia Chikovani Petros Sargs Grigor "
             "Hakob Harutyun Khachatur Avetis Galst Vardan Mkrtch Hovhannis Gabun Tsereteli Jorj Kobakh "
             "Melikset Ter-Petros Bagrat Nazar",
             "",
             "shvili dze ia yan ian uri"),
    "in": ("Agar Bhat Chaud Desh Gaik Kul Mahaj Patw Rath Shri Tri Upad Bhand Chitn Deor Gokh Jadh Kirl "
           "Mand Nadk Pras Rajg Sab Tend Wagh",
           "",
           "wal nagar kar pande hary ari vedi yay ani ekar kar"),
    "af": ("Ade Olu Ogun Oye Aki Nwa Chi Oko Eze Oba Ola Ayo Femi Kwa Nana Mu Ka Wa Ochi Njo",
           "",
           "bayo wale tunde kunle yemi mola sanya nkwo uka gwu chukwu mena ngo roge"),
    "jp": ("Yama Naka Ta Ishi Kawa Mori Hayashi Ono Fuji Matsu Taka Kita Nishi Higashi Miya Sakura Oka Hashi "
           "Kuro Shira Aka Ao Hira Iwa Kami Kane Kiyo Nagai Sawa Shimo Uchi Yoshi",
           "",
           "moto mura da kawa yama no saki shita zaki hara ta oka uchi gawa bayashi"),
}
# The share of entries with one of the common surnames: a rough guess at how concentrated
# surnames are in each population (Spanish, Portuguese, Indian, Turkish ones much more).
HEAD_SHARE = {"by": 0.1, "ru": 0.1, "ua": 0.1, "pl": 0.1, "de": 0.15, "nordic": 0.35, "fr": 0.1,
              "es": 0.4, "pt": 0.45, "it": 0.1, "en": 0.15, "ar": 0.15, "fa": 0.25, "tr": 0.35, "in": 0.4,
              "af": 0.2, "jp": 0.3, "gr": 0.0, "cauc": 0.0}
HEADS = {"by": _BY_S, "ru": _RU_S, "ua": _UA_S, "pl": _PL_S, "de": _DE_S, "nordic": _NORDIC_S,
         "fr": _FR_S, "es": _ES_S, "pt": _PT_S, "it": _IT_S, "en": _EN_S, "ar": _AR_S, "fa": _FA_S,
         "tr": _TR_S, "in": _IN_S, "af": _AF_S, "jp": _JP_S}
_TAILS = {key: tuple(part.split(" ") if index == 1 else part.split() for index, part in enumerate(parts))
          for key, parts in TAIL_PARTS.items()}


def _surname(rng: random.Random, key: str) -> str:
    if key not in HEADS or rng.random() >= HEAD_SHARE[key]:
        stems, middles, endings = _TAILS["slavic" if key in ("by", "ru", "ua") else key]
        middle = rng.choice(middles) if rng.random() < 0.5 else ""
        surname = rng.choice(stems) + middle + rng.choice(endings)
        if key == "ar":
            surname = f"Al-{surname}"
    else:
        surname = rng.choice(HEADS[key])
    if key == "es" and rng.random() < 0.25:
        surname = f"{surname} {rng.choice(_ES_S)}"  # both surnames, as Spanish usage has it
    return surname


LANGUAGES = {
    "by": Language(14, tuple(_BY_M), tuple(_BY_F)), "ru": Language(14, tuple(_RU_M), tuple(_RU_F)),
    "ua": Language(10, tuple(_UA_M), tuple(_UA_F)), "pl": Language(6, tuple(_PL_M), tuple(_PL_F)),
    "de": Language(6, tuple(_DE_M), tuple(_DE_F)), "nordic": Language(3, tuple(_NORDIC_M), tuple(_NORDIC_F)),
    "fr": Language(5, tuple(_FR_M), tuple(_FR_F)), "es": Language(5, tuple(_ES_M), tuple(_ES_F)),
    "pt": Language(3, tuple(_PT_M), tuple(_PT_F)), "it": Language(4, tuple(_IT_M), tuple(_IT_F)),
    "en": Language(9, tuple(_EN_M), tuple(_EN_F)), "ar": Language(4, tuple(_AR_M), tuple(_AR_F)),
    "fa": Language(2, tuple(_FA_M), tuple(_FA_F)), "tr": Language(2, tuple(_TR_M), tuple(_TR_F)),
    "gr": Language(2, tuple(_GR_M), tuple(_GR_F)), "cauc": Language(3, tuple(_CAUC_M), tuple(_CAUC_F)),
    "in": Language(2, tuple(_IN_M), tuple(_IN_F)), "af": Language(2, tuple(_AF_M), tuple(_AF_F)),
    "cn": Language(2, (), ()), "kr": Language(1, (), ()), "vn": Language(1, (), ()),
    "jp": Language(1, tuple(_JP_M), tuple(_JP_F)),
}
_KEYS = tuple(LANGUAGES)
_WEIGHTS = tuple(language.weight for language in LANGUAGES.values())


@dataclass(frozen=True)
class Person:
    name: str
    short: str  # the word later mentions use
    role: str


def draw_name(rng: random.Random) -> tuple[str, str]:
    key = rng.choices(_KEYS, _WEIGHTS)[0]
    return LANGUAGES[key].draw(rng, key)


def watch_list(size: int, newsmakers: list[Person], rng: random.Random) -> list[WatchEntry]:
    """``size`` distinct entries; prefixes of 10 and 1,000 hold some of the people the stories name."""
    wanted = [(position, person.name) for position, person in zip(
        _spread(rng, WATCHED_NEWSMAKERS, size), newsmakers, strict=False)]
    reserved = dict(wanted)
    seen = {name.casefold() for name in reserved.values()}
    lists = ("default", "belarus-desk", "ukraine-desk", "sanctions", "media-freedom")
    entries = []
    for position in range(size):
        if position in reserved:
            entries.append(WatchEntry.create(reserved[position], now=NOW))
            continue
        while True:
            name, short = draw_name(rng)
            given_first = name.endswith(short)
            if given_first and rng.random() < 0.03:  # a middle initial, as some lists write them
                given, _, rest = name.partition(" ")
                name = f"{given} {chr(rng.randint(65, 90))}. {rest}"
            if name.casefold() not in seen:
                break
        seen.add(name.casefold())
        options: dict = {"list_name": rng.choice(lists)}
        roll = rng.random()
        if given_first and roll < 0.04:  # a married or maiden name
            options["aliases"] = [f"{name.split()[0]} {draw_name(rng)[1]}"]
        elif roll < 0.12:
            options["topics"] = [rng.choice(("prisoner_release", "sanctions_relief", "diplomatic_move"))]
        entries.append(WatchEntry.create(name, now=NOW, **options))
    return entries


def _spread(rng: random.Random, counts: dict[int, int], size: int) -> list[int]:
    """Positions for the watched newsmakers: so many within the first 10, the first 1,000, the rest."""
    positions: list[int] = []
    bounds = [0, *sorted(counts), size]
    totals = [counts[bound] for bound in sorted(counts)] + [WATCHED_IN_ALL]
    for lower, upper, total in zip(bounds, bounds[1:], totals, strict=False):
        if lower >= size:
            break
        room = [p for p in range(lower, min(upper, size)) if p not in positions]
        positions += rng.sample(room, min(len(room), total - len(positions)))
    return positions


# --- stories -------------------------------------------------------------------------------

ROLES = ("opposition leader", "foreign minister", "human rights lawyer", "former presidential candidate",
         "political analyst", "government spokesperson", "economy minister", "central bank governor",
         "defence minister", "senior diplomat", "journalist", "blogger", "trade union leader",
         "prosecutor general", "member of parliament", "mayor", "energy minister", "deputy prime minister",
         "rights activist", "special envoy", "university professor", "former political prisoner")
CITIES = ("Minsk", "Vilnius", "Warsaw", "Kyiv", "Riga", "Geneva", "Brussels", "Istanbul", "Tbilisi", "Berlin",
          "Washington", "Moscow", "Hrodna", "Brest", "Gomel", "Vitebsk", "Strasbourg", "Vienna", "Prague",
          "Helsinki", "Tallinn", "Budapest", "Bratislava", "Chisinau")
ORGS = ("the European Union", "the United Nations", "the Red Cross", "NATO", "the OSCE", "the World Bank",
        "Viasna", "Amnesty International", "the Belarusian Association of Journalists", "Human Rights Watch",
        "the International Monetary Fund", "the Council of Europe", "Reporters Without Borders")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
TOPICS = ("sanctions on potash exports", "the release of political prisoners", "transit through the border",
          "the reopening of the embassy", "flights over the country's airspace", "grain exports",
          "the exchange of prisoners", "energy supplies for the winter", "visas for students")
QUOTES = ("The door to dialogue remains open, but it cannot be open in one direction only",
          "We are not going to trade people like goods", "This is a first step, and it is not enough",
          "Nobody should be in prison for what they wrote", "Sanctions have worked, and they must stay",
          "We expect concrete steps, not promises", "Our priority is to bring every one of them home",
          "The talks were difficult but honest", "There is no deal until everyone is free")
# {a}, {b}: people (introduced in full the first time, by surname later); {a_s}: surname only
NAMED = (
    "{a} said on {day} that talks with officials in {city} had made progress toward {topic}.",
    "\"{quote},\" {a} told reporters in {city} after the meeting.",
    "{a_s}'s office did not respond to a request for comment on {day}.",
    "{a} was detained in {month} {year} and sentenced to {n} years in prison, according to {org}.",
    "The talks in {city} were attended by {a} and {b}, officials said.",
    "{a_s} has denied the charges, which {org} described as politically motivated.",
    "{a} met {b} in {city} for about two hours, the first such meeting in years.",
    "Speaking by telephone from {city}, {a} said the decision would be tested in the coming weeks.",
    "{a_s} added that {org} had been informed of the plan in advance.",
    "In a statement on {day}, {a} welcomed the move but said {n} people were still held.",
    "{b} later said {a_s} had been given no guarantees about {topic}.",
    "According to {a_s}'s lawyer, the appeal will be heard in {month}.",
    "{a}, who has spent {n} months in exile, said the announcement changed little for the families.",
    "\"{quote},\" said {a_s}, who has campaigned for years on the issue.",
    "{a} and {b} are expected to travel to {city} next week for talks on {topic}.",
    "A spokesperson for {a_s} said the meeting with {b} had been postponed until {month}.",
    "{a_s} was among {n} people named in the decree published on {day}.",
    "Asked about {topic}, {a_s} said the question would be decided in {city}.",
    "{b} dismissed the criticism from {a_s} as \"theatre for foreign audiences\".",
    "Supporters of {a_s} gathered outside the court building in {city} on {day} morning.",
)
FILLER = (
    "The government in {city} pardoned {n} prisoners, including two journalists, according to {org}.",
    "{org_cap} welcomed the decision and urged the authorities to free all remaining political prisoners.",
    "Officials in {city} said sanctions on the national airline would be eased to let it buy spare parts.",
    "Critics said the move fell far short of what had been promised and called for further pressure.",
    "Relatives gathered outside the prison early in the morning, hoping to see those released.",
    "The foreign ministry in {city} did not respond to a request for comment on {day}.",
    "Trade between the two countries has fallen sharply since restrictions were imposed in {year}.",
    "Analysts said the agreement showed a shift in policy after years of isolation.",
    "Markets reacted calmly, with the currency little changed against the dollar by midday.",
    "{org_cap} said it would monitor the situation and report to member states in {month}.",
    "Human rights groups estimate that more than {n}00 people remain behind bars for political reasons.",
    "The border crossing near {city} was closed for several hours on {day}, local media reported.",
    "Negotiations on {topic} have been under way since {month} {year}, diplomats said.",
    "The decree did not say when the remaining prisoners would be released.",
    "State television showed the released prisoners boarding a bus, without naming them.",
    "The European Union has imposed several rounds of sanctions since the disputed election of {year}.",
    "Officials in {city} declined to give details, citing the sensitivity of the talks.",
    "Several of those freed were in poor health, according to people who met them at the border.",
    "It was not immediately clear whether the move was linked to talks on {topic}.",
    "The Belarusian service of a Western broadcaster said it had confirmed {n} of the names.",
)
HEADLINES = (
    "{city} frees {n} prisoners after talks on {topic}",
    "{a_s} says door to dialogue open as {b_s} meets envoy",
    "Officials in {city} signal shift on {topic}",
    "{a_s} calls for pressure as {org_short} weighs next step",
)


def story(rng: random.Random, newsmakers: list[Person]) -> tuple[str, frozenset[str]]:
    """A headline, a blank line and a body of 600-800 words: several people, named in full
    (with a role) the first time and by surname, possessive or initial after that; and the
    names of the people it names.
    """
    cast: list[Person] = []
    wanted = rng.randint(2, 3)
    while len(cast) < wanted:
        # the people every list watches are in the news more often: hits at every size
        person = rng.choices(newsmakers, [NEWS_WEIGHT if i < 5 else 1 for i in range(len(newsmakers))])[0]
        if person not in cast:
            cast.append(person)
    for _ in range(rng.randint(2, 4)):
        name, short = draw_name(rng)
        cast.append(Person(name, short, rng.choice(ROLES)))
    introduced: set[str] = set()

    def mention(person: Person, *, short: bool) -> str:
        if person.name in introduced:
            if rng.random() < 0.08 and person.name.endswith(person.short):
                return f"{person.name[0]}. {person.short}"
            return person.short
        introduced.add(person.name)
        if short:
            return person.name
        if rng.random() < 0.5:
            return f"{person.role} {person.name}"
        article = "an" if person.role[0] in "aeiou" else "a"
        return f"{person.name}, {article} {person.role},"

    def sentence(template: str) -> str:
        a, b = rng.sample(cast, 2)
        org = rng.choice(ORGS)
        values = {"city": rng.choice(CITIES), "org": org, "org_cap": org[0].upper() + org[1:],
                  "org_short": org.removeprefix("the "), "topic": rng.choice(TOPICS),
                  "quote": rng.choice(QUOTES), "day": rng.choice(DAYS), "month": rng.choice(MONTHS),
                  "year": str(rng.randint(2014, 2024)), "n": str(rng.randint(2, 60))}
        # people in the order the sentence names them, so the first mention is the full one
        for _, field, _, _ in Formatter().parse(template):
            if field in ("a", "a_s", "b", "b_s") and field not in values:
                values[field] = mention(a if field[0] == "a" else b, short=field.endswith("_s"))
        text = template.format(**values).replace(",,", ",")
        return text[0].upper() + text[1:]

    named, filler = Deck(rng, NAMED), Deck(rng, FILLER)
    headline = sentence(rng.choice(HEADLINES))
    introduced.clear()  # the headline does not introduce anyone
    lede = f"{rng.choice(CITIES).upper()}, {rng.choice(MONTHS)} {rng.randint(1, 28)} (Newswire) - "
    paragraphs = [lede + sentence(rng.choice(NAMED[:2]))]
    words, target = len(paragraphs[0].split()), rng.randint(600, 800)
    while words < target:
        paragraph = " ".join(sentence((named if rng.random() < 0.55 else filler).draw())
                             for _ in range(rng.randint(1, 3)))
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    text = article_text({"title": headline, "content": "\n\n".join(paragraphs)})
    return text, frozenset(introduced)


class Deck:
    """Templates drawn without repeats until all have been used, then reshuffled."""

    def __init__(self, rng: random.Random, templates: tuple[str, ...]) -> None:
        self._rng, self._templates, self._left = rng, templates, []

    def draw(self) -> str:
        if not self._left:
            self._left = list(self._templates)
            self._rng.shuffle(self._left)
        return self._left.pop()


# --- measuring -----------------------------------------------------------------------------

def rss_mib() -> float:
    """Resident set size now (Linux /proc; elsewhere the peak so far)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        pages = int(statm.read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def clear_caches() -> None:
    """Empty the name-matching modules' look-up caches, so a build pays for filling them."""
    for module in (spelling, name_patterns, article_words, name_matcher):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


@dataclass
class SizeResult:
    entries: int
    build_s: float
    retained_mib: float
    traced_mib: float | None
    traced_peak_mib: float | None
    pickled_mib: float
    first_ms: float
    steady_ms: float
    mentions: float
    watched_named: float
    watched_other: float
    readings: Counter[str]


def measure(entries: list[WatchEntry], analysed: list, named: list[frozenset[str]], rounds: int,
            traced: bool) -> SizeResult:
    gc.collect()
    clear_caches()
    before = rss_mib()
    started = time.perf_counter()
    matcher = WatchMatcher(entries)
    build_s = time.perf_counter() - started
    gc.collect()
    retained = rss_mib() - before
    pickled = len(pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20
    traced_mib = traced_peak = None
    if traced:
        clear_caches()
        tracemalloc.start()
        again = WatchMatcher(entries)
        traced_now, traced_top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del again
        traced_mib, traced_peak = traced_now / 2**20, traced_top / 2**20
    passes = []
    found = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        found = [matcher.mentions(text, sentences, entities, topics=("prisoner_release",))
                 for text, sentences, entities in analysed]
        passes.append((time.perf_counter() - started) * 1000 / len(analysed))
    return SizeResult(entries=len(entries), build_s=build_s, retained_mib=retained,
                      traced_mib=traced_mib, traced_peak_mib=traced_peak, pickled_mib=pickled,
                      first_ms=passes[0], steady_ms=statistics.median(passes[1:]),
                      mentions=sum(len(f) for f in found) / len(found),
                      watched_named=sum(len({m.entry.entry_id for m in f if m.entry.name in people})
                                        for f, people in zip(found, named, strict=True)) / len(found),
                      watched_other=sum(len({m.entry.entry_id for m in f if m.entry.name not in people})
                                        for f, people in zip(found, named, strict=True)) / len(found),
                      readings=Counter(reading(m.reason) for f in found for m in f))


READINGS = (("full name", "full name"), ("initials", "initials"), ("alias", "one-word alias"),
            ("name ", "one-word name"), ("distinctive surname", "distinctive surname alone"))


def reading(reason: str) -> str:
    """How a mention was read, from its reason (see newsmon.analysis.name_matcher.CONFIDENCE)."""
    for prefix, label in READINGS:
        if reason.startswith(prefix):
            return label
    return "surname alone tagged PERSON" if "tagged as a person" in reason else "surname after the full name"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50, help="synthetic articles (default 50)")
    parser.add_argument("--sizes", default="10,1000,100000", help="watch-list sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="timed matching passes after the first")
    parser.add_argument("--ner-rounds", type=int, default=2, help="timed nlp.pipe passes (median)")
    parser.add_argument("--seed", type=int, default=20250912)
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="skip the second, traced build that measures the allocation peak")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if args.articles < 1 or not sizes or sizes[0] < 1:
        parser.error("--articles and every size must be positive")

    rng = random.Random(args.seed)
    newsmakers = []
    for _ in range(NEWSMAKERS):
        name, short = draw_name(rng)
        newsmakers.append(Person(name, short, rng.choice(ROLES)))
    texts, named = zip(*(story(rng, newsmakers) for _ in range(args.articles)), strict=True)
    counts = [len(text.split()) for text in texts]
    print(f"articles: {len(texts)}, {statistics.mean(counts):.0f} words on average "
          f"(min {min(counts)}, max {max(counts)}), seed {args.seed}")

    nlp = load_model()
    gazetteer = Gazetteer.load()
    list(nlp.pipe(texts[:3]))  # warm up
    passes = []
    for _ in range(args.ner_rounds):
        started = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=32))
        passes.append((time.perf_counter() - started) * 1000 / len(texts))
    ner_ms = statistics.median(passes)
    started = time.perf_counter()
    analysed = [(text, sentences_of(doc), tuple(extract_entities(doc, gazetteer)))
                for text, doc in zip(texts, docs, strict=True)]
    convert_ms = (time.perf_counter() - started) * 1000 / len(texts)
    del docs
    print(f"model {model_id(nlp)}: {', '.join(nlp.pipe_names)}")
    print(f"NER baseline, nlp.pipe: {ner_ms:.1f} ms/article (median of {len(passes)} passes: "
          f"{', '.join(f'{ms:.1f}' for ms in passes)})")
    print(f"sentences_of + extract_entities (the matcher's input, not in the ratio): "
          f"{convert_ms:.1f} ms/article")

    started = time.perf_counter()
    everyone = watch_list(sizes[-1], newsmakers, random.Random(args.seed + 1))
    create_all = time.perf_counter() - started
    surnames = Counter(entry.name.split()[-1].casefold() for entry in everyone)
    common = ", ".join(f"{word} {count}" for word, count in surnames.most_common(3))
    print(f"watch list: {len(everyone):,} distinct entries created in {create_all:.1f} s "
          f"({create_all / len(everyone) * 1e6:.0f} µs each), {len(surnames):,} distinct last words "
          f"(most common: {common}); smaller lists are its prefixes\n")

    results = [measure(everyone[:size], analysed, list(named), args.rounds, not args.no_tracemalloc)
               for size in sizes]
    header = (f"{'entries':>8} {'build s':>8} {'RSS +MiB':>9} {'traced MiB':>10} {'peak MiB':>9} "
              f"{'pickle MiB':>10} {'mentions':>8} {'alerts':>11} {'first ms':>9} {'ms/article':>10} "
              f"{'/ NER':>7}")
    print(header)
    for r in results:
        traced = f"{r.traced_mib:>10.1f} {r.traced_peak_mib:>9.1f}" if r.traced_mib is not None else \
            f"{'-':>10} {'-':>9}"
        print(f"{r.entries:>8,} {r.build_s:>8.2f} {r.retained_mib:>9.1f} {traced} {r.pickled_mib:>10.2f} "
              f"{r.mentions:>8.1f} {r.watched_named:>5.1f} + {r.watched_other:<5.1f}{r.first_ms:>9.2f} "
              f"{r.steady_ms:>10.2f} {r.steady_ms / ner_ms:>7.1%}")
    for r in results:
        shares = ", ".join(f"{label} {count / len(texts):.1f}" for label, count in r.readings.most_common())
        print(f"{r.entries:>8,} entries, mentions per article by reading: {shares or 'none'}")
    print("build s: WatchMatcher(entries), caches cold; RSS +MiB: resident growth it leaves (index and "
          "caches); traced/peak: tracemalloc of a second build; mentions: per article; alerts: entries "
          "matched per article, people the story names + others (mostly other bearers of a surname the "
          "story names); "
          "first ms: the first pass over the articles; ms/article: median of the next passes")
    largest = results[-1]
    verdict = "met" if largest.steady_ms / ner_ms < GOAL else "NOT met"
    print(f"goal: with {largest.entries:,} entries, matching under {GOAL:.0%} of NER time: {verdict} "
          f"({largest.steady_ms:.2f} ms vs {ner_ms:.1f} ms per article, "
          f"ratio {largest.steady_ms / ner_ms:.1%}; first pass {largest.first_ms / ner_ms:.1%})")


if __name__ == "__main__":
    main()
