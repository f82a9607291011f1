#!/usr/bin/perl
# Generates the shared, deterministic input files of the programs suite.
# Usage: gen_input.pl DIR
#   DIR/big.txt   ~8 MB, 150k lines: id TAB key TAB int TAB float TAB words
#   DIR/big2.txt  big.txt with scattered edits, insertions and deletions (for diff)
#   DIR/rows.csv  100k rows for sqlite3: id,name,city,age,score,tag
use strict;
use warnings;

my $dir = shift or die "usage: $0 DIR\n";
my $seed = 12345;
# LCG; the low bits of an LCG are poor, so return the high ones.
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed >> 8; }

my @syl = qw(ka lo mi nu pe ra si to vu xe ya zo an el ir ob us ch th qu);
my @words;
for my $i (0 .. 4999) {
	my $n = 1 + rnd() % 4;
	my $w = join '', map { $syl[rnd() % @syl] } 1 .. $n;
	push @words, $w;
}
my @cities = qw(paris lyon nice lille nantes brest rennes metz dijon tours caen pau);

open my $big, '>', "$dir/big.txt" or die $!;
open my $big2, '>', "$dir/big2.txt" or die $!;
for my $i (1 .. 150000) {
	my $key = $words[rnd() % 2 ? rnd() % 5000 : rnd() % 300];
	my $int = rnd() % 1000000 - 500000;
	my $flt = sprintf '%.3f', (rnd() % 10000000) / 997;
	my $nw = 2 + rnd() % 7;
	my $text = join ' ', map { $words[rnd() % 5000] . (rnd() % 7 == 0 ? '-' . (rnd() % 100) : '') } 1 .. $nw;
	my $line = "$i\t$key\t$int\t$flt\t$text\n";
	print $big $line;
	my $r = rnd() % 1000;
	if ($r < 8) {
		(my $l2 = $line) =~ s/([aeiou])/uc $1/ge;
		print $big2 $l2;
	} elsif ($r < 11) {
		# deleted
	} elsif ($r < 14) {
		print $big2 $line, "inserted\t$key\t$i\n";
	} else {
		print $big2 $line;
	}
}
close $big;
close $big2;

open my $csv, '>', "$dir/rows.csv" or die $!;
for my $i (1 .. 100000) {
	my $name = $words[rnd() % 5000] . ' ' . $words[rnd() % 5000];
	my $city = $cities[rnd() % @cities];
	my $age = 18 + rnd() % 70;
	my $score = sprintf '%.2f', (rnd() % 100000) / 100;
	my $tag = $words[rnd() % 50];
	print $csv "$i,$name,$city,$age,$score,$tag\n";
}
close $csv;
