"""Synthetic people for the name-matching benchmark: names of many languages, drawn from a
seeded random generator, and watch lists built from them.

Given names and surnames of East Slavic (romanised several ways, with feminine forms),
Polish, German, Nordic, Romance, English, Arabic, Persian, Turkish, Greek, Caucasian,
Indian, African, Chinese, Korean, Vietnamese and Japanese people. Common surnames (the
head) are shared by many people; the long tail is built from stems and endings typical of
each language, so a list of 100,000 people has tens of thousands of distinct surnames, as a
real one does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from newsmon.analysis.watch_entries import WatchEntry

NOW = datetime(2025, 9, 12, 8, 30, tzinfo=UTC)
WATCHED_NEWSMAKERS = {10: 5, 1000: 25}  # how many of them the first 10 and the first 1,000 entries hold
WATCHED_IN_ALL = 60  # ... and the whole list

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

